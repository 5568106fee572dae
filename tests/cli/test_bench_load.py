"""`copilot bench load`: a real `copilot serve` under locust's clients, briefly. Figures are printed, never judged:
the test checks that requests were answered without failure, that memory was read, and that the load landed in
a copy of the data dir, not in the operator's records."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.services import Services, open_records
from copilot.settings import Settings
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import make_settings

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture
def prepared(
    ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """A data dir as `copilot kb ingest` and `copilot triage train` leave it (index, model, ONNX export), which the
    CLI and the server it starts read from the environment."""
    data = tmp_path / "data"
    shutil.copytree(ready.settings.resolved_chroma_path, data / "chroma")
    shutil.copytree(ready.settings.models_dir, data / "models")
    assert embeddings.onnx_dir is not None
    shutil.copytree(embeddings.onnx_dir, data / "onnx")
    settings = make_settings(data)
    for name in ("data_dir", "sop_dir", "datasets_dir", "training_dir"):
        monkeypatch.setenv(f"COPILOT_{name.upper()}", str(getattr(settings, name)))
    return settings


def tickets_kept(settings: Settings) -> int:
    records = open_records(settings)
    try:
        return records.tickets.count()
    finally:
        records.close()


def test_both_endpoints_answer_every_request_and_the_workers_memory_is_reported(prepared: Settings) -> None:
    before = tickets_kept(prepared)
    result = runner.invoke(app, ["bench", "load", "--workers", "1", "--users", "2", "--seconds", "3"])
    assert result.exit_code == 0, result.stderr or result.stdout
    for endpoint in ("triage", "suggest"):
        line = next(line for line in result.stdout.splitlines() if line.startswith(f"{endpoint}:"))
        answered = re.search(r"(\d+) requests, [\d.]+/s; p50 \d+ ms, p95 \d+ ms, p99 \d+ ms; 0 failures;", line)
        assert answered and int(answered.group(1)) > 0, line
        assert re.search(r"RSS of the workers \d+ MiB after warm-up, \d+ MiB at the end .*, max \d+ MiB", line), line
    assert tickets_kept(prepared) == before  # the load went to the copy


def test_a_data_dir_that_is_not_prepared_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "empty"))
    result = runner.invoke(app, ["bench", "load", "--seconds", "1"])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "copilot triage train" in result.stderr
