"""`copilot worker`: run backlog job chunks from the broker (COPILOT_BROKER_URL), as many as --concurrency
at once. Start any number, on any machine that reaches Redis, the records database and the triage model."""

from __future__ import annotations

import os
import socket

import typer
from celery.signals import worker_process_init

from copilot.cli.context import reported_errors, state
from copilot.jobs.celery_app import WorkerProcess, celery_app


def worker(
    ctx: typer.Context,
    concurrency: int = typer.Option(1, "--concurrency", min=1, help="Chunks this worker runs at once (processes)."),
    name: str | None = typer.Option(
        None, "--name", help="The worker's name in job progress and Celery; default copilot-<pid>@<host>."
    ),
    loglevel: str = typer.Option("INFO", "--loglevel", help="Celery's log level: DEBUG, INFO, WARNING, ERROR."),
) -> None:
    """Label the chunks of backlog jobs queued on the broker until stopped (Ctrl-C finishes the chunk at hand)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        process = WorkerProcess(cli.settings)
        app = celery_app(cli.settings, worker=process)
        # Each worker process builds its own services after the fork: ONNX Runtime's threads and the
        # database's connections do not survive one.
        worker_process_init.connect(lambda **_: process.warm(), weak=False)
        hostname = name or f"copilot-{os.getpid()}@{socket.gethostname()}"
    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            f"--hostname={hostname}",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
