"""The OpenAPI document is the contract: schemathesis calls every operation it lists, on a real server, with
schema-valid and schema-invalid requests, and every answer must be one the document describes (status, content
type, headers, body), with no server error; schema-valid requests must be accepted and invalid ones refused.

The server is a real uvicorn process over its own copy of the session's data and of the SOP folder (the run
writes tickets, drafts, users and keys, ingests and publishes SOPs), calling with an admin's key, who may use
every route. The operations come from the served document, so a route added later is tested without a change
here. What runs and how much is in tests/api/schemathesis.toml; the one relaxation there says why.

`pytest tests/api/test_schema_contract.py -s` prints the totals; on a failure, schemathesis' own account of each
(with a curl line to reproduce it) is in the assertion message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import SOP_DIR
from tests.servers import Servers

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
RUN_LIMIT_S = 1800  # a bound on waiting, not a speed target: the run takes a few minutes on a busy machine
# Thousands of requests in a few minutes from one key and address: above the default limits, which would answer
# 429 (documented, so no failure, but then nothing behind the limit would be tested).
UNLIMITED = {"COPILOT_RATE_LIMIT_PER_PRINCIPAL": "1000000", "COPILOT_RATE_LIMIT_PER_ADDRESS": "1000000"}


def test_every_answer_of_every_operation_is_the_one_the_schema_describes(
    ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sop_dir = tmp_path / "sop"
    shutil.copytree(SOP_DIR, sop_dir)
    servers = Servers(ready, embeddings, tmp_path / "server", sop_dir=sop_dir)
    report_path = tmp_path / "schemathesis.json"
    try:
        server = servers(**UNLIMITED)
        server.wait_until_up()
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "--config-file",
                str(CONFIG),
                "--no-color",
                "run",
                f"{server.base}/openapi.json",
                "--header",
                f"X-API-Key: {server.key}",
                "--report",
                "json",
                "--report-json-path",
                str(report_path),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=RUN_LIMIT_S,
        )
    finally:
        servers.stop()
    assert report_path.exists(), f"schemathesis did not run (exit {run.returncode}):\n{run.stdout}\n{run.stderr}"
    report: dict[str, Any] = json.loads(report_path.read_text())
    operations, cases = report["operations"], report["test_cases"]
    with capsys.disabled():
        print(
            f"\nschemathesis {report['schemathesis_version']}, seed {report['seed']}: {operations['tested']} of "
            f"{operations['total']} operations, {cases['generated']} requests, {cases['unique_failures']} failures, "
            f"{len(report['errors'])} errors, in {report['running_time']:.0f} s"
        )
    account = _failures_section(run.stdout)
    assert report["errors"] == [], f"schemathesis could not test everything:\n{account}"
    assert report["failures"] == [], f"answers the schema does not describe:\n{account}"
    assert operations["tested"] == operations["total"] > 0, f"operations left untested:\n{account}"
    assert report["complete"] and run.returncode == 0, f"exit {run.returncode}:\n{run.stdout}\n{run.stderr}"


def _failures_section(output: str) -> str:
    """The part of schemathesis' output that says what failed and how to reproduce it (all of it when there is
    no such part)."""
    start = output.find("=== FAILURES ===")
    return output[output.rfind("\n", 0, start) + 1 :] if start >= 0 else output
