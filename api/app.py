"""The FastAPI app factory: the one place besides the CLI root that builds Settings."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.routes import drafts, health, knowledge_base, tickets
from copilot.domain.approval import AlreadyDecided
from copilot.domain.tickets import TicketTooLong
from copilot.pipeline import warm_up
from copilot.services import Services, build_services, load_triage_model
from copilot.settings import Settings
from copilot.store.drafts import DraftNotFound
from copilot.triage import TriageModelError
from knowledge_base.loader import SopError


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """The API over a services bundle (built from settings when not given; the triage model must exist)."""
    if services is None:
        services = build_services(settings or Settings())
        load_triage_model(services, train_if_missing=False)
        warm_up(services)
    app = FastAPI(
        title="Support copilot",
        version="0.1.0",
        description="Triage creator tickets, draft cited replies from SOPs, and record agents' decisions.",
    )
    app.state.services = services
    for router in (tickets.router, drafts.router, knowledge_base.router, health.router):
        app.include_router(router)
    _error_handlers(app)
    return app


def _error_handlers(app: FastAPI) -> None:
    def handler(status: int):  # type: ignore[no-untyped-def]
        async def respond(request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse(status_code=status, content={"detail": str(exc)})

        return respond

    app.add_exception_handler(DraftNotFound, handler(404))
    app.add_exception_handler(AlreadyDecided, handler(409))
    app.add_exception_handler(TicketTooLong, handler(413))
    app.add_exception_handler(SopError, handler(422))
    app.add_exception_handler(ValueError, handler(422))
    app.add_exception_handler(TriageModelError, handler(503))
