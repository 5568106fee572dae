"""`copilot bench backlog`: tickets per second of a backlog job, on N `copilot worker` processes started here
(or, with --workers 0, in this process without a broker). Figures are printed, never judged."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import typer
from celery import Celery

from copilot.cli.context import console, reported_errors, state
from copilot.jobs import BacklogJobs
from copilot.jobs.celery_app import celery_app, send_chunks
from copilot.jobs.plan import plan_job
from copilot.jobs.sample import sample_backlog, write_backlog
from copilot.store.jobs import JobState, JobStatus
from copilot.triage.tables import read_rows
from evals.speed.cold_start import copilot_command

POLL_S = 0.1  # the figure's resolution
GIVE_UP_S = 1800.0  # a job not done by then is stuck, not slow
WARM_UP_CHUNK = 10  # tickets in each warm-up chunk


def backlog(
    ctx: typer.Context,
    workers: int = typer.Option(
        1, "--workers", min=0, max=16, help="`copilot worker` processes to start; 0: run in this process."
    ),
    tickets: int = typer.Option(5000, "--tickets", min=1, help="Tickets in the backlog (training tickets repeated)."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, max=16, help="--concurrency of each worker."),
) -> None:
    """Submit a backlog job and time it from submission to done; workers are started, warmed up, then stopped."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        settings = cli.settings
        jobs = BacklogJobs(cli.services(triage_model=workers == 0, train_if_missing=False))
        if workers > 0 and not jobs.on_workers:
            raise ValueError("--workers needs COPILOT_BROKER_URL (redis://host:port/db); --workers 0 runs here")
        if workers == 0 and jobs.on_workers:
            raise ValueError("--workers 0 runs in this process: unset COPILOT_BROKER_URL")
        with tempfile.TemporaryDirectory(prefix="copilot-bench-") as folder:
            source = write_backlog(Path(folder) / "backlog.jsonl", sample_backlog(settings.training_dir, tickets))
            if workers == 0:
                started = time.perf_counter()
                job_id = jobs.create(source, text_column="text", id_column="id")
                jobs.run_here(job_id)
                status, seconds = jobs.status(job_id), time.perf_counter() - started
                where = "in this process (no broker)"
            else:
                app = celery_app(settings)
                _refuse_busy_broker(app)
                pool = [_start_worker(n) for n in range(workers)]
                try:
                    _warm_up(jobs, app, source, chunks=2 * workers * concurrency, workers=workers)
                    started = time.perf_counter()
                    job_id = jobs.create(source, text_column="text", id_column="id")
                    jobs.start(job_id)
                    status = _wait(jobs, job_id)
                    seconds = time.perf_counter() - started
                finally:
                    _stop(pool)
                where = f"on {workers} worker{'s' if workers > 1 else ''} (concurrency {concurrency})"
        if status.status is not JobState.DONE:
            raise RuntimeError(f"job {job_id} {status.status.value}: {status.error}")
        progress = status.progress
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        console.print(
            f"backlog: {progress.tickets_done} tickets in {progress.chunks_total} chunks of up to "
            f"{settings.job_chunk_size} {where}: {seconds:.1f} s from submission to done, "
            f"{progress.tickets_done / seconds:.1f} tickets/s; {progress.chunks_retried} chunks retried; "
            f"load average {load:.1f} on {os.cpu_count()} cores"
        )


def _refuse_busy_broker(app: Celery) -> None:
    """Workers already on the broker would take chunks too and the figure would not be of N workers."""
    others = app.control.ping(timeout=1.0) or []
    if others:
        names = ", ".join(sorted(name for reply in others for name in reply))
        raise RuntimeError(f"workers already consume from the broker ({names}); stop them or use another database")


def _start_worker(n: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *copilot_command(),
            "worker",
            "--name",
            f"bench-{n}-{os.getpid()}@{socket.gethostname()}",
            "--loglevel",
            "WARNING",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _warm_up(jobs: BacklogJobs, app: Celery, source: Path, *, chunks: int, workers: int) -> None:
    """Wait until every worker answers, then run a small job of small chunks, so that each worker process has
    loaded its model (a worker holds one chunk at a time, so the first chunks go to different workers)."""
    deadline = time.monotonic() + GIVE_UP_S
    while len(app.control.ping(timeout=1.0) or []) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workers} workers did not answer within {GIVE_UP_S:.0f} s")
    plan = plan_job(
        read_rows(source),
        text_column="text",
        id_column="id",
        max_chars=jobs.services.settings.max_ticket_chars,
        chunk_size=WARM_UP_CHUNK,
        source="warm-up",
    )
    job_id = jobs.store.create(plan.chunks[:chunks], skipped=[], source="warm-up")
    send_chunks(app, job_id, jobs.store.chunk_count(job_id))
    status = _wait(jobs, job_id)
    if status.status is not JobState.DONE:
        raise RuntimeError(f"the warm-up job {job_id} {status.status.value}: {status.error}")


def _wait(jobs: BacklogJobs, job_id: str) -> JobStatus:
    deadline = time.monotonic() + GIVE_UP_S
    while (status := jobs.status(job_id)).status not in (JobState.DONE, JobState.FAILED):
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} not done within {GIVE_UP_S:.0f} s")
        time.sleep(POLL_S)
    return status


def _stop(pool: list[subprocess.Popen[bytes]]) -> None:
    for worker in pool:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in pool:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
