"""`copilot serve`: ingest the SOPs, load (or train) the triage model, and serve the API.

The CLI is a composition root like the API's factory: it builds the services once and hands them to
`create_app`, so the server answers its first request with the bundle already warm.
"""

from __future__ import annotations

import typer

from api.app import create_app
from copilot.cli.context import console, reported_errors, state
from copilot.pipeline import ingest, warm_up


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
        warm_up(services)
    bind_host, bind_port = host or cli.settings.host, port or cli.settings.port
    console.print(f"Serving on http://{bind_host}:{bind_port} (docs: /docs)")
    try:
        uvicorn.run(create_app(services=services), host=bind_host, port=bind_port, log_level="info")
    finally:
        services.store.close()
