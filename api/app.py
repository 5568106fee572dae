"""The FastAPI app factory: the one place besides the CLI root that builds Settings."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.docs import add_docs
from api.metrics import Metrics
from api.middleware import RequestContext
from api.routes import drafts, health, jobs, knowledge_base, metrics, tickets
from copilot.domain.approval import AlreadyDecided
from copilot.domain.taxonomy import UnknownLabel
from copilot.domain.tickets import TicketTooLong
from copilot.observability import configure_logging
from copilot.pipeline import warm_up
from copilot.services import KnowledgeBaseEmpty, Services, build_services, load_triage_model
from copilot.settings import Settings
from copilot.store.drafts import DraftNotFound
from copilot.triage import TriageModelError
from knowledge_base.loader import SopError


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """The API over a services bundle (built from settings when not given; the triage model must exist)."""
    settings = services.settings if services is not None else settings or Settings()
    configure_logging(settings)
    if services is None:
        services = build_services(settings)
        load_triage_model(services, train_if_missing=False)
        warm_up(services)
    app = FastAPI(
        title="Support copilot",
        version="0.1.0",
        description="Triage creator tickets, draft cited replies from SOPs, and record agents' decisions.",
        docs_url=None,  # FastAPI's pages load Swagger UI and ReDoc from a CDN; api/docs.py serves it offline
        redoc_url=None,
    )
    app.state.services = services
    app.state.metrics = Metrics(services)
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    add_docs(app)
    for router in (tickets.router, jobs.router, drafts.router, knowledge_base.router, health.router, metrics.router):
        app.include_router(router)
    _error_handlers(app)
    return app


# Our own exceptions that a route can raise, and the status each means. Anything else, a bare ValueError
# included, is a bug in the service: FastAPI answers 500 and logs the traceback. (Bad request bodies and
# parameters are 422 from FastAPI's own validation; a bad ticket text is a 422 raised in api/deps.py.)
ERROR_STATUS: dict[type[Exception], int] = {
    DraftNotFound: 404,  # GET /v1/drafts/{id}, its history, a decision on it
    AlreadyDecided: 409,  # a second decision on a draft
    TicketTooLong: 413,  # /v1/triage, /v1/suggest (the batch lists such tickets in `skipped`)
    UnknownLabel: 422,  # GET /v1/kb/search with a LOB the taxonomy does not hold
    SopError: 422,  # POST /v1/kb/ingest with an invalid SOP file
    TriageModelError: 503,  # the triage model cannot be used
    KnowledgeBaseEmpty: 503,  # /v1/suggest before any SOP is ingested
}


def _error_handlers(app: FastAPI) -> None:
    def handler(status: int):  # type: ignore[no-untyped-def]
        async def respond(request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse(status_code=status, content={"detail": str(exc)})

        return respond

    for exception, status in ERROR_STATUS.items():
        app.add_exception_handler(exception, handler(status))
