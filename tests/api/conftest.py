"""Fixtures of the API tests: the app over an LLM writer whose chat model times out, and real uvicorn
processes serving the app over a copy of the session's data (index, trained model, ONNX export)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import writer_with

STARTUP_LIMIT_S = 240  # a bound on waiting, not a speed target: a busy CI machine is slow


@pytest.fixture
def fallback_client(ready: Services) -> Iterator[TestClient]:
    """The app over the session's services, but drafting with a chat model that times out every time."""
    writer, _ = writer_with(ready, *[TimeoutError("the chat model did not answer")] * 20)
    with TestClient(create_app(services=dataclasses.replace(ready, writer=writer))) as test_client:
        yield test_client


@dataclass
class Server:
    base: str
    log: Path
    process: subprocess.Popen[bytes]

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"the server did not answer within {STARTUP_LIMIT_S} s:\n{self.log.read_text()}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def start_server(ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Starts `uvicorn api.app:create_app --factory` processes (the app builds its own Settings from the
    environment) over one copy of the session's data; extra environment variables are passed on. Every
    process started is stopped at the end."""
    data = tmp_path / "data"
    shutil.copytree(ready.settings.resolved_chroma_path, data / "chroma")
    shutil.copytree(ready.settings.models_dir, data / "models")
    assert embeddings.onnx_dir is not None
    shutil.copytree(embeddings.onnx_dir, data / "onnx")
    environment = os.environ | {
        "COPILOT_DATA_DIR": str(data),
        "COPILOT_SOP_DIR": str(ready.settings.sop_dir),
        "COPILOT_TRAINING_DIR": str(ready.settings.training_dir),
        "COPILOT_DATASETS_DIR": str(ready.settings.datasets_dir),
    }
    started: list[Server] = []

    def start(**extra_environment: str) -> Server:
        port = free_port()
        log = tmp_path / f"uvicorn-{port}.log"
        command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port)]
        with log.open("w") as out:
            process = subprocess.Popen(
                command, env=environment | extra_environment, stdout=out, stderr=subprocess.STDOUT
            )
        server = Server(base=f"http://127.0.0.1:{port}", log=log, process=process)
        started.append(server)
        return server

    yield start
    for server in started:
        server.process.terminate()
    for server in started:
        server.process.wait(timeout=30)
