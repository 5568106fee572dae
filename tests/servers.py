"""Real uvicorn processes serving the app over a copy of the session's data (index, trained model, ONNX export),
for tests that need the app in a process of its own: a browser, several workers, the process's environment.
A server in another process shares no state with the test but its database, so accounts are made there."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from copilot.domain.accounts import Actor, Role
from copilot.services import Services
from copilot.store.accounts import AccountStore, SignInLimits
from copilot.store.database import open_engine, upgrade
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import make_settings

STARTUP_LIMIT_S = 240  # a bound on waiting, not a speed target: a busy CI machine is slow
OPERATOR = Actor.operator("tests")


@dataclass
class Server:
    base: str
    log: Path
    process: subprocess.Popen[bytes]
    key: str  # an admin's API key in the server's database

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

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


@contextmanager
def accounts_in(database_url: str) -> Iterator[AccountStore]:
    """The accounts of the database a server will use, as an operator reaches them with `copilot users` and
    `copilot keys` (the schema brought up to date first, as those commands do)."""
    engine = open_engine(database_url)
    try:
        upgrade(engine)
        yield AccountStore(engine, limits=SignInLimits(5, dt.timedelta(minutes=15)), session_hours=1)
    finally:
        engine.dispose()


def admin_key(database_url: str) -> str:
    """An admin's API key made in the database a server will use, as an operator would with `copilot keys create`
    before starting it."""
    with accounts_in(database_url) as accounts:
        return accounts.create_key("tests-server", Role.ADMIN, by=OPERATOR)[1]


class Servers:
    """Starts `uvicorn api.app:create_app --factory` processes (the app builds its own Settings from the
    environment) over one copy of the session's data in `root`, whose database holds an admin key
    (`Server.key`); call it with extra environment variables to start one. `sop_dir` gives the servers an SOP
    folder of their own (a test may then change it); by default they read the shipped one. `stop()` stops
    every process started."""

    def __init__(
        self, ready: Services, embeddings: LocalMiniLMEmbeddings, root: Path, *, sop_dir: Path | None = None
    ) -> None:
        data = root / "data"
        shutil.copytree(ready.settings.resolved_chroma_path, data / "chroma")
        shutil.copytree(ready.settings.models_dir, data / "models")
        assert embeddings.onnx_dir is not None
        shutil.copytree(embeddings.onnx_dir, data / "onnx")
        self.root = root
        self.environment = os.environ | {
            "COPILOT_DATA_DIR": str(data),
            "COPILOT_SOP_DIR": str(sop_dir or ready.settings.sop_dir),
            "COPILOT_TRAINING_DIR": str(ready.settings.training_dir),
            "COPILOT_DATASETS_DIR": str(ready.settings.datasets_dir),
        }
        self.database_url = make_settings(data).resolved_database_url
        self.key = admin_key(self.database_url)
        self.started: list[Server] = []

    def __call__(self, **extra_environment: str) -> Server:
        port = free_port()
        log = self.root / f"uvicorn-{port}.log"
        command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port)]
        with log.open("w") as out:
            process = subprocess.Popen(
                command, env=self.environment | extra_environment, stdout=out, stderr=subprocess.STDOUT
            )
        server = Server(base=f"http://127.0.0.1:{port}", log=log, process=process, key=self.key)
        self.started.append(server)
        return server

    def stop(self) -> None:
        for server in self.started:
            server.process.terminate()
        for server in self.started:
            server.process.wait(timeout=30)
