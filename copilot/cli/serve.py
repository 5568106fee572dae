"""`copilot serve`: ingest the SOPs, load (or train) the triage model, and serve the API.

The CLI is a composition root like the API's factory. With one worker it builds the services once and
hands them to `create_app`, so the server answers its first request with the bundle already warm. With
several, it prepares what every worker will load (the index, the model, the warm-up's vectors), then
hands over to uvicorn's process manager: each worker builds its own services from the same Settings.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from api.app import create_app
from copilot.cli.context import console, reported_errors, state
from copilot.cli.db import report_database
from copilot.domain import Ticket
from copilot.observability import UVICORN_LOGGING
from copilot.pipeline import ingest, triage_ticket, warm_up
from copilot.services import Services, build_services, load_triage_model, saving_warm_vectors

# prometheus-client's switch: with it, each worker writes its metrics to files in this folder and any
# worker's /metrics sums them (api/metrics.py). Without it, a scrape would see one worker's counts.
PROMETHEUS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Triaged once while the server starts (not a creator's words): it loads what the first ticket would
# otherwise wait for, the language detector's models and the ONNX session (about 1.5 s of CPU).
PROBE_TICKET = "where is my payout?"
WORKER_START_LIMIT_S = 120  # seconds a worker may take to start before its supervisor gives up on it
logger = logging.getLogger(__name__)


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Address to bind; default COPILOT_HOST (127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port; default COPILOT_PORT (8000)."),
    skip_ingest: bool = typer.Option(False, "--skip-ingest", help="Serve the index as it is, without re-ingesting."),
    workers: int = typer.Option(
        1, "--workers", min=1, help="Worker processes; each loads its own model and index (about 0.5 GB each)."
    ),
) -> None:
    """Get everything ready, then serve the API and its docs page (/docs)."""
    import uvicorn

    cli = state(ctx)
    bind_host, bind_port = host or cli.settings.host, port or cli.settings.port
    with reported_errors(cli.debug):
        services = build_services(cli.settings)  # owned here, so the supervisor of several workers can drop it
        # The schema is upgraded by now; on a fresh machine, the first admin is made before any worker starts.
        report_database(services.records, cli.settings, host=bind_host, port=bind_port)
        load_triage_model(services, train_if_missing=True)
        if not skip_ingest:
            console.print(f"Knowledge base: {ingest(services).summary()}")
        console.print(f"Triage model: {services.require_classifier().version}")
        with saving_warm_vectors(services):  # the next start, and every worker, loads them
            warm_up(services)
    console.print(f"Serving on http://{bind_host}:{bind_port} (docs: /docs)")
    if workers == 1:
        try:
            _warm_in_background(services)
            uvicorn.run(create_app(services=services), host=bind_host, port=bind_port, **UVICORN_LOGGING)
        finally:
            services.store.close()
        return
    # The workers build their own bundles: this process only supervises them, so it lets its own go.
    services.store.close()
    del services
    gc.collect()
    with _metrics_shared_by_workers():
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            workers=workers,
            host=bind_host,
            port=bind_port,
            # A worker imports the copilot and loads its index and model before it answers the supervisor's
            # health check: on a busy 2-core machine that takes longer than uvicorn's default 5 s, after which
            # the supervisor kills and restarts it, forever.
            timeout_worker_healthcheck=WORKER_START_LIMIT_S,
            **UVICORN_LOGGING,
        )


@contextmanager
def _metrics_shared_by_workers() -> Iterator[None]:
    """A fresh folder for the workers' metric files, unless one is configured; removed at exit."""
    if os.environ.get(PROMETHEUS_DIR_VARIABLE):
        yield
        return
    folder = tempfile.mkdtemp(prefix="copilot-metrics-")
    os.environ[PROMETHEUS_DIR_VARIABLE] = folder  # inherited by the worker processes uvicorn starts
    try:
        yield
    finally:
        del os.environ[PROMETHEUS_DIR_VARIABLE]
        shutil.rmtree(folder, ignore_errors=True)


def _warm_in_background(services: Services) -> None:
    """Triage the probe ticket in a thread, so readiness does not wait for it; a failure is only logged
    (the first real ticket then loads the same parts and reports the error to its caller)."""

    def probe() -> None:
        try:
            triage_ticket(Ticket(text=PROBE_TICKET), services=services)
        except Exception:
            logger.warning("the start-up probe ticket could not be triaged", exc_info=True)

    threading.Thread(target=probe, name="warm-first-ticket", daemon=True).start()
