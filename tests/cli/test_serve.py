"""`copilot serve` as a user runs it on a fresh machine: a real process that upgrades the database, makes the first
admin, ingests, loads the model and answers over HTTP, alone or as several worker processes sharing one SQLite
database. Callers use what an operator would give them: a key from `copilot keys create`, or a console sign-in."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.domain.accounts import Actor, Role
from copilot.services import Services, open_records
from copilot.store.database import head_revision
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import make_settings

pytestmark = pytest.mark.integration

STARTUP_LIMIT_S = 240  # a bound on waiting, not a speed target: a busy CI machine is slow
PAYOUT = {"text": "my withdrawal from oct 3 still has not arrived", "creator_handle": "mila.bakes"}
ADMIN_PASSWORD = "chosen-by-the-operator-7"


@dataclass
class Server:
    base: str
    log: Path
    data: Path
    process: subprocess.Popen[bytes]

    def wait_until_ready(self) -> None:
        """Until /v1/health/ready answers 200 (while starting, it is refused or answers 503)."""
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"copilot serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/v1/health/ready", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"copilot serve was not ready within {STARTUP_LIMIT_S} s:\n{self.log.read_text()}")

    def create_key(self, name: str, *, role: Role = Role.SERVICE) -> dict[str, str]:
        """`copilot keys create` on the server's data dir, as its operator runs it; returns the key's header."""
        result = CliRunner().invoke(
            app, ["keys", "create", name, "--role", role.value], env={"COPILOT_DATA_DIR": str(self.data)}
        )
        assert result.exit_code == 0, result.stderr
        match = re.search(r"Key: (\S+)", result.stdout)
        assert match, result.stdout
        return {"X-API-Key": match.group(1)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def start_serve(ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Starts `copilot serve <arguments>` over a fresh data dir holding the session's trained model and ONNX
    export (and, with `index=True`, a copy of its index); the process is stopped at the end."""
    started: list[Server] = []

    def start(*arguments: str, index: bool = False, **extra_environment: str) -> Server:
        data = tmp_path / "data"
        shutil.copytree(ready.settings.models_dir, data / "models")
        assert embeddings.onnx_dir is not None
        shutil.copytree(embeddings.onnx_dir, data / "onnx")
        if index:
            shutil.copytree(ready.settings.resolved_chroma_path, data / "chroma")
        port = free_port()
        environment = os.environ | {
            "COPILOT_DATA_DIR": str(data),
            "COPILOT_SOP_DIR": str(ready.settings.sop_dir),
            "COPILOT_TRAINING_DIR": str(ready.settings.training_dir),
            "COPILOT_DATASETS_DIR": str(ready.settings.datasets_dir),
            **extra_environment,
        }
        log = tmp_path / "serve.log"
        command = [str(Path(sys.executable).parent / "copilot"), "serve", "--port", str(port), *arguments]
        with log.open("w") as out:
            process = subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT)
        server = Server(base=f"http://127.0.0.1:{port}", log=log, data=data, process=process)
        started.append(server)
        return server

    yield start
    for server in started:
        server.process.terminate()
        server.process.wait(timeout=60)


def test_serve_ingests_loads_the_model_and_drafts_over_http(
    start_serve: Callable[..., Server], ready: Services
) -> None:
    server = start_serve(COPILOT_ADMIN_PASSWORD="")  # unset: a one-time password is generated
    server.wait_until_ready()
    log = server.log.read_text()
    assert f"Database sqlite:///{server.data / 'copilot.db'}: created at {head_revision()}" in log
    password = re.search(r"Created the first account: admin, one-time password: (\S+) — sign in at (\S+)", log)
    assert password, log
    assert password.group(2) == f"{server.base}/console"
    with httpx.Client(base_url=server.base, timeout=10) as browser:  # keeps the session cookie, as a browser does
        signed_in = browser.post("/console/login", data={"username": "admin", "password": password.group(1)})
        assert signed_in.status_code == 303, signed_in.text
        me = browser.get("/v1/me")
    assert (me.status_code, me.json()["name"], me.json()["role"]) == (200, "admin", "admin")
    assert httpx.post(f"{server.base}/v1/suggest", json=PAYOUT, timeout=10).status_code == 401, "no key, no draft"

    health = httpx.get(f"{server.base}/v1/health", timeout=5)
    assert health.status_code == 200
    assert health.json()["triage_model"] == ready.require_classifier().version
    assert health.json()["chunks"] == ready.index.count()
    draft = httpx.post(f"{server.base}/v1/suggest", json=PAYOUT, headers=server.create_key("helpdesk"), timeout=60)
    assert draft.status_code == 201, draft.text
    assert draft.json()["action"] == "reply"
    assert {c["doc_id"] for c in draft.json()["citations"]} >= {"SOP-CR-03"}
    assert "Knowledge base:" in server.log.read_text(), "serve ingests the library before it serves"
    assert list((server.data / "cache").glob("queries-*.npz")), "the warm-up's vectors are kept for the next start"


def test_several_workers_record_exactly_one_of_many_simultaneous_decisions(
    start_serve: Callable[..., Server], tmp_path: Path
) -> None:
    scratch = tmp_path / "scratch"  # where the server makes its temporary folders, to see them come and go
    scratch.mkdir()
    server = start_serve("--workers", "2", index=True, TMPDIR=str(scratch), COPILOT_ADMIN_PASSWORD=ADMIN_PASSWORD)
    server.wait_until_ready()  # one worker is enough for that: wait for the other too, so both take requests
    _wait_for(lambda: server.log.read_text().count("Application startup complete") == 2, server.log)
    assert len(_workers(server.process.pid)) == 2, "two worker processes serve the port"
    assert len(_metrics_dirs(scratch)) == 1, "the workers share one fresh metrics dir"
    log = server.log.read_text()
    assert "Created the first account: admin (password from COPILOT_ADMIN_PASSWORD)" in log
    assert log.count("Created the first account") == 1 and ADMIN_PASSWORD not in log

    # Sixteen agents, each with a key of their own (made in the server's database while it runs).
    records = open_records(make_settings(server.data))
    agents = {
        f"agent-{n}": records.accounts.create_key(f"agent-{n}", Role.SPECIALIST, by=Actor.operator("tests"))[1]
        for n in range(16)
    }
    records.close()
    draft = httpx.post(f"{server.base}/v1/suggest", json=PAYOUT, headers=server.create_key("helpdesk"), timeout=60)
    assert draft.status_code == 201, draft.text
    url = f"{server.base}/v1/drafts/{draft.json()['id']}/decision"
    decisions = [
        (f"agent-{n}", {"kind": "approve"} if n % 2 else {"kind": "reject", "reason": "tone", "note": "too curt"})
        for n in range(16)
    ]
    with ThreadPoolExecutor(len(decisions)) as pool:
        answers = list(
            pool.map(lambda d: httpx.post(url, json=d[1], headers={"X-API-Key": agents[d[0]]}, timeout=60), decisions)
        )

    assert Counter(a.status_code for a in answers) == {201: 1, 409: 15}, [a.text for a in answers]
    [(agent, winner)] = [(name, a.json()) for (name, _), a in zip(decisions, answers) if a.status_code == 201]
    assert winner["actor"] == f"key:{agent}", "the caller decides, never a name in the body"
    history = httpx.get(
        f"{server.base}/v1/drafts/{draft.json()['id']}/history", headers={"X-API-Key": agents["agent-0"]}, timeout=10
    ).json()
    assert [(t["actor"], t["to_status"]) for t in history] == [(winner["actor"], winner["to_status"])]
    assert "database is locked" not in server.log.read_text()

    server.process.terminate()
    server.process.wait(timeout=60)
    assert _metrics_dirs(scratch) == [], "the metrics dir is removed when the server stops"


def _wait_for(condition: Callable[[], bool], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {STARTUP_LIMIT_S} s:\n{log.read_text()}")
        time.sleep(0.5)


def _workers(pid: int) -> list[int]:
    """The worker processes uvicorn started (spawned children, not multiprocessing's resource tracker)."""
    children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [child for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def _metrics_dirs(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.name.startswith("copilot-metrics-")]
