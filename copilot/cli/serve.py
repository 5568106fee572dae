"""`copilot serve`: ingest the SOPs, load (or train) the triage model, and serve the API."""

from __future__ import annotations

import typer

from copilot.cli.context import console, reported_errors, state
from copilot.pipeline import ingest

API_FACTORY = "api.app:create_app"


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Address to bind; default COPILOT_HOST (127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port; default COPILOT_PORT (8000)."),
    skip_ingest: bool = typer.Option(False, "--skip-ingest", help="Serve the index as it is, without re-ingesting."),
) -> None:
    """Get everything ready, then serve the API and its docs page (/docs)."""
    import uvicorn

    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services(triage_model=True, train_if_missing=True)
        if not skip_ingest:
            console.print(f"Knowledge base: {ingest(services).summary()}")
        console.print(f"Triage model: {services.require_classifier().version}")
        services.store.close()
    bind_host, bind_port = host or cli.settings.host, port or cli.settings.port
    console.print(f"Serving on http://{bind_host}:{bind_port} (docs: /docs)")
    # By import string: copilot/ never imports api/. The app factory builds its own Settings from the
    # same environment, and finds the index and model made ready above.
    uvicorn.run(API_FACTORY, factory=True, host=bind_host, port=bind_port, log_level="info")
