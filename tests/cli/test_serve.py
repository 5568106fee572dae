"""`copilot serve` as a user runs it: a real process that ingests, loads the model and answers over HTTP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings

pytestmark = pytest.mark.integration

STARTUP_LIMIT_S = 240  # a bound on waiting, not a speed target: a busy CI machine is slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`copilot serve` over a fresh data dir holding the session's trained model and ONNX export."""
    data = tmp_path / "data"
    shutil.copytree(ready.settings.models_dir, data / "models")
    assert embeddings.onnx_dir is not None
    shutil.copytree(embeddings.onnx_dir, data / "onnx")
    port = free_port()
    env = os.environ | {
        "COPILOT_DATA_DIR": str(data),
        "COPILOT_SOP_DIR": str(ready.settings.sop_dir),
        "COPILOT_TRAINING_DIR": str(ready.settings.training_dir),
        "COPILOT_DATASETS_DIR": str(ready.settings.datasets_dir),
    }
    log = tmp_path / "serve.log"
    command = [str(Path(sys.executable).parent / "copilot"), "serve", "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield f"http://127.0.0.1:{port}", log
        finally:
            process.terminate()
            process.wait(timeout=30)


def wait_for_health(base: str, log: Path) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        try:
            return httpx.get(f"{base}/v1/health", timeout=5)
        except httpx.TransportError:
            time.sleep(0.5)
    raise AssertionError(f"copilot serve did not answer within {STARTUP_LIMIT_S} s:\n{log.read_text()}")


def test_serve_ingests_loads_the_model_and_drafts_over_http(server: tuple[str, Path], ready: Services) -> None:
    base, log = server
    health = wait_for_health(base, log)
    assert health.status_code == 200
    assert health.json()["triage_model"] == ready.require_classifier().version
    assert health.json()["chunks"] == ready.index.count()
    draft = httpx.post(
        f"{base}/v1/suggest",
        json={"text": "my withdrawal from oct 3 still has not arrived", "creator_handle": "mila.bakes"},
        timeout=60,
    )
    assert draft.status_code == 201, draft.text
    assert draft.json()["action"] == "reply"
    assert {c["doc_id"] for c in draft.json()["citations"]} >= {"SOP-CR-03"}
    assert "Knowledge base:" in log.read_text(), "serve ingests the library before it serves"
