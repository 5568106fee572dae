"""PostgreSQL restarting under traffic, against a real server of the test's own (initdb into a temp folder, on a
free port, so the shared server on 5432 is never touched): a request in flight when the server goes down and
requests while it is down get a plain 503, never a 500, a stack trace, SQL or a ticket's text; once the server
is back the same app answers again, without a restart (pooled connections are checked before use)."""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import DATABASE_UNAVAILABLE
from copilot.domain.accounts import Role
from copilot.pipeline import ingest
from copilot.services import Services, build_services, load_triage_model
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import api_key, make_settings
from tests.servers import free_port

pytestmark = pytest.mark.integration

SECRET_TICKET = "my payout never arrived, my password is Hunter2hunter and my card 4539 1488 0343 6467"
WAIT_LIMIT_S = 120  # a bound on waiting for the server or a blocked request, not a speed target


@dataclass
class Cluster:
    """A PostgreSQL server of the test's own, run by `pg_ctl`."""

    bin: Path
    data: Path
    log: Path
    port: int
    user: str | None  # who runs the server when the tests run as root (PostgreSQL refuses root)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=postgres user=postgres"

    def run(self, *command: str) -> None:
        result = subprocess.run(
            [str(self.bin / command[0]), *command[1:]], user=self.user, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{' '.join(command)}: {result.stdout}{result.stderr}"

    def pg_ctl(self, action: str, *options: str) -> None:
        server_options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w", "-o", server_options, *options)


def postgres_binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    user = None
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root: run them as the postgres account
        try:
            user = pwd.getpwnam("postgres").pw_name
        except KeyError:
            pytest.skip("running as root and there is no postgres account to run a PostgreSQL server as")
    # Not under pytest's tmp_path: its folders are private to root, and the server may run as another user.
    folder = Path(tempfile.mkdtemp(prefix="copilot-pg-"))
    if user is not None:
        os.chown(folder, pwd.getpwnam(user).pw_uid, -1)
    server = Cluster(bin=binaries, data=folder / "data", log=folder / "server.log", port=free_port(), user=user)
    try:
        server.run("initdb", "-D", str(server.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        server.pg_ctl("start")
        yield server
    finally:
        subprocess.run([str(binaries / "pg_ctl"), "stop", "-D", str(server.data), "-m", "immediate"], user=user)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app_on_cluster(
    cluster: Cluster, ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> Iterator[TestClient]:
    """The real app over services whose records live on the cluster (index and model copied from the session)."""
    data = tmp_path / "data"
    shutil.copytree(ready.settings.resolved_chroma_path, data / "chroma")
    shutil.copytree(ready.settings.models_dir, data / "models")
    services = build_services(make_settings(data, database_url=cluster.url), embeddings=embeddings)
    ingest(services)
    load_triage_model(services, train_if_missing=False)
    with TestClient(create_app(services=services), headers={"X-API-Key": api_key(services, Role.ADMIN)}) as client:
        yield client
    services.store.close()


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_LIMIT_S} s"
        time.sleep(0.1)


def unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}


def test_a_restart_answers_503_to_requests_in_flight_and_the_app_recovers_by_itself(
    cluster: Cluster, app_on_cluster: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = app_on_cluster
    kept = client.post("/v1/triage", json={"text": SECRET_TICKET, "helpdesk_id": f"HD-{uuid.uuid4().hex[:8]}"})
    assert kept.status_code == 200, kept.text

    # A request held in flight: the queue's read waits behind a lock another connection holds on the tickets.
    locker = psycopg.connect(cluster.dsn)
    locker.execute("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE")
    answers: list[httpx.Response] = []
    in_flight = threading.Thread(target=lambda: answers.append(client.get("/v1/tickets")))
    in_flight.start()
    with psycopg.connect(cluster.dsn, autocommit=True) as watcher:
        wait_for(
            lambda: (
                watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%tickets%'"
                ).fetchone()[0]  # type: ignore[index]
                > 0
            ),
            "the queue's request waiting on the lock",
        )
    cluster.pg_ctl("stop", "-m", "fast")  # ends every connection, the waiting one included
    in_flight.join(WAIT_LIMIT_S)
    unavailable(answers[0])
    with pytest.raises(psycopg.OperationalError):
        locker.execute("SELECT 1")

    # While the server is down: every request that needs the database gets the same plain 503.
    unavailable(client.get("/v1/tickets"))
    unavailable(client.post("/v1/triage", json={"text": SECRET_TICKET}))
    assert client.get("/v1/health/live").status_code == 200

    cluster.pg_ctl("start")
    # The same app, not restarted: its pooled connections are dead, found so before use, and replaced.
    for _ in range(3):
        assert client.get("/v1/tickets").status_code == 200
    again = client.post("/v1/triage", json={"text": SECRET_TICKET, "helpdesk_id": f"HD-{uuid.uuid4().hex[:8]}"})
    assert again.status_code == 200, again.text

    logged = "\n".join(
        f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records if not r.name.startswith("httpx")
    )
    assert "records database error OperationalError" in logged
    for secret in ("Hunter2hunter", "4539 1488", "payout never arrived", "SELECT", "[SQL", "parameters"):
        assert secret not in logged, f"{secret!r} reached the log"


def test_a_restart_under_steady_traffic_never_answers_500(cluster: Cluster, app_on_cluster: TestClient) -> None:
    client = app_on_cluster
    statuses: list[int] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            body = {"text": "where is my payout?", "helpdesk_id": f"HD-{uuid.uuid4().hex[:8]}"}
            statuses.append(client.post("/v1/triage", json=body).status_code)
            statuses.append(client.get("/v1/tickets", params={"limit": 5}).status_code)

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        wait_for(lambda: len(statuses) >= 4, "traffic before the restart")
        cluster.pg_ctl("restart", "-m", "fast")
        after = len(statuses)
        wait_for(lambda: len(statuses) >= after + 6, "traffic after the restart")
    finally:
        stop.set()
        sender.join(WAIT_LIMIT_S)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[-4:] == [200, 200, 200, 200]
