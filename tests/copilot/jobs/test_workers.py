"""Backlog jobs on real `copilot worker` processes over Redis: a worker killed mid-chunk loses nothing, and
a chunk that keeps failing is retried, then fails its job with the reason.

Redis is the server at 127.0.0.1:6379 (database REDIS_DB, flushed before and after, no other); the workers,
the submitting `copilot` command and this test share one SQLite records database."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from copilot.domain import Ticket
from copilot.jobs.sample import sample_backlog, write_backlog
from copilot.pipeline import triage_ticket
from copilot.services import Services, build_services
from copilot.store.jobs import JobState, JobStatus, JobStore
from copilot.store.tables import job_chunks
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import TRAINING_DIR, make_settings

pytestmark = pytest.mark.integration

REDIS_DB = 11  # this module's own database on the shared server
BROKER_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
WAIT_LIMIT_S = 600  # bounds on waiting, not speed targets: a busy CI machine is slow
VISIBILITY_TIMEOUT_S = 30  # a chunk takes a few seconds; one whose worker died comes back after this
COPILOT = str(Path(sys.executable).parent / "copilot")


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {BROKER_URL}: {type(exc).__name__}: {exc}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@dataclass
class Cluster:
    """Workers and commands over one data dir, broker and records database."""

    env: dict[str, str]
    folder: Path
    database_url: str
    workers: dict[str, subprocess.Popen[bytes]]

    def start_worker(self, name: str, *, data_dir: Path | None = None) -> subprocess.Popen[bytes]:
        env = self.env | ({"COPILOT_DATA_DIR": str(data_dir)} if data_dir else {})
        log = (self.folder / f"worker-{name}.log").open("w")
        # Its own session: the worker and its pool processes are one group, killed together like a machine.
        process = subprocess.Popen(
            [COPILOT, "worker", "--name", f"{name}@test"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"worker-{name}.log").read_text()

    def wait_ready(self, name: str) -> None:
        deadline = time.monotonic() + WAIT_LIMIT_S
        while f"{name}@test ready." not in self.log(name):
            assert self.workers[name].poll() is None, f"worker {name} exited:\n{self.log(name)}"
            assert time.monotonic() < deadline, f"worker {name} not ready in {WAIT_LIMIT_S} s:\n{self.log(name)}"
            time.sleep(0.5)

    def copilot(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [COPILOT, *args], env=self.env, capture_output=True, text=True, timeout=WAIT_LIMIT_S, check=False
        )

    def store(self) -> JobStore:
        return JobStore(sa.create_engine(self.database_url))


@pytest.fixture
def cluster(
    broker: redis.Redis, ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> Iterator[Cluster]:
    """A copy of the session's data dir (trained model, ONNX export) that every process points at."""
    data = tmp_path / "data"
    shutil.copytree(ready.settings.models_dir, data / "models")
    assert embeddings.onnx_dir is not None
    shutil.copytree(embeddings.onnx_dir, data / "onnx")
    database_url = f"sqlite:///{tmp_path / 'records.db'}"
    settings = make_settings(data, database_url=database_url)
    build_services(settings, embeddings=embeddings).store.close()  # the Chroma folder and tables, made once
    env = os.environ | {
        "COPILOT_DATA_DIR": str(data),
        "COPILOT_SOP_DIR": str(ready.settings.sop_dir),
        "COPILOT_TRAINING_DIR": str(ready.settings.training_dir),
        "COPILOT_DATASETS_DIR": str(ready.settings.datasets_dir),
        "COPILOT_DATABASE_URL": database_url,
        "COPILOT_BROKER_URL": BROKER_URL,
        "COPILOT_BROKER_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        "COPILOT_JOB_RETRY_BACKOFF_S": "0.2",
    }
    cluster = Cluster(env=env, folder=tmp_path, database_url=database_url, workers={})
    yield cluster
    for process in cluster.workers.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in cluster.workers.values():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(store: JobStore, job_id: str, done: Callable[[JobStatus], bool], what: str) -> JobStatus:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not done(status := store.status(job_id)):
        assert status.status is not JobState.FAILED or what == "the end", f"job failed: {status.error}"
        assert time.monotonic() < deadline, f"no {what} within {WAIT_LIMIT_S} s: {status.model_dump_json()}"
        time.sleep(0.2)
    return status


def chunks_running_on(store: JobStore, job_id: str, worker: str) -> set[int]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(job_chunks.c.chunk).where(
                job_chunks.c.job_id == job_id,
                job_chunks.c.status == "running",
                job_chunks.c.worker.startswith(f"{worker}@test "),
            )
        )
        return {row.chunk for row in rows}


def kill_mid_chunk(cluster: Cluster, store: JobStore, job_id: str, name: str) -> set[int]:
    """Once a few chunks are done, kill -9 the worker (all its processes) while it is labelling a chunk.
    Returns the chunks it was running. The worker is stopped first, so what it runs cannot change between
    the look and the kill."""
    group = cluster.workers[name].pid
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        status = store.status(job_id)
        assert status.status is JobState.RUNNING or status.status is JobState.QUEUED, status.model_dump_json()
        if status.progress.chunks_done >= 2 and chunks_running_on(store, job_id, name):
            os.killpg(group, signal.SIGSTOP)
            running = chunks_running_on(store, job_id, name)
            if running:
                os.killpg(group, signal.SIGKILL)
                cluster.workers[name].wait(timeout=30)
                return running
            os.killpg(group, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"worker {name} was never seen labelling a chunk:\n{cluster.log(name)}")


def test_a_job_loses_nothing_when_a_worker_is_killed_mid_chunk(
    cluster: Cluster, ready: Services, tmp_path: Path
) -> None:
    rows = sample_backlog(TRAINING_DIR, 3000)  # 15 chunks of 200
    source = write_backlog(tmp_path / "backlog.jsonl", rows)
    for name in ("A", "B"):
        cluster.start_worker(name)
    for name in ("A", "B"):
        cluster.wait_ready(name)

    submitted = cluster.copilot("triage", "job", str(source))
    assert submitted.returncode == 0, submitted.stderr
    job = json.loads(submitted.stdout)
    assert job["status"] in ("queued", "running") and job["progress"]["chunks_total"] == 15

    store = cluster.store()
    killed = kill_mid_chunk(cluster, store, job["id"], "A")
    status = wait_for(store, job["id"], lambda s: s.status in (JobState.DONE, JobState.FAILED), "the end")

    assert status.status is JobState.DONE, status.error
    assert (status.progress.chunks_done, status.progress.tickets_done) == (15, 3000)
    retried = {r.chunk: r for r in status.progress.retries}
    assert status.progress.chunks_retried == len(retried) >= len(killed)
    for chunk in killed:
        assert retried[chunk].attempts >= 2
        assert retried[chunk].problems[0].startswith("attempt 1 on A@test pid ")
        assert retried[chunk].problems[0].endswith("did not finish; the chunk was delivered again")

    written = cluster.copilot("triage", "job-results", job["id"], str(tmp_path / "labels.jsonl"))
    assert written.returncode == 0, written.stderr
    labelled = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert [r["id"] for r in labelled] == [r["id"] for r in rows], "every ticket exactly once, in input order"
    assert [r["line"] for r in labelled] == list(range(1, 3001))

    results = list(store.results(job["id"]))
    for n in [*range(0, 3000, 97), *(200 * c + 7 for c in killed)]:  # a sample, and tickets of killed chunks
        alone = triage_ticket(Ticket(id=rows[n]["id"], text=rows[n]["text"]), services=ready)
        assert results[n].triage == alone, f"ticket {rows[n]['id']}: the job's labels differ from one by one"


def test_a_chunk_that_keeps_failing_on_a_worker_is_retried_then_fails_the_job(cluster: Cluster, tmp_path: Path) -> None:
    modelless = tmp_path / "modelless"  # a worker whose data dir lacks the triage model: it cannot label
    shutil.copytree(Path(cluster.env["COPILOT_DATA_DIR"]) / "onnx", modelless / "onnx")
    cluster.start_worker("broken", data_dir=modelless)
    cluster.wait_ready("broken")
    source = write_backlog(tmp_path / "backlog.jsonl", sample_backlog(TRAINING_DIR, 250))  # 2 chunks

    submitted = cluster.copilot("triage", "job", str(source), "--wait")
    assert submitted.returncode == 1
    [error] = submitted.stderr.strip().splitlines()
    job_id = error.split()[2]
    expected = f"no triage model in {modelless / 'models'}; run `copilot triage train`"
    assert error.startswith(f"error: job {job_id} failed: chunk ")
    assert error.endswith(f"failed after 4 attempts: FileNotFoundError: {expected}")

    status = cluster.store().status(job_id)
    assert status.status is JobState.FAILED and status.progress.chunks_done == 0
    failed = [r for r in status.progress.retries if r.status == "failed"]
    assert len(failed) == 1 and failed[0].attempts == 4
    assert failed[0].problems == [f"attempt {n} failed: FileNotFoundError: {expected}" for n in (1, 2, 3, 4)]
    assert "cannot label tickets yet: no triage model" in cluster.log("broken")

    results = cluster.copilot("triage", "job-results", job_id, str(tmp_path / "labels.csv"))
    assert results.returncode == 1 and f"job {job_id} is failed" in results.stderr
