"""The FastAPI app factory: the one place besides the CLI root that builds Settings."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.console import add_console
from api.console.templating import render
from api.docs import add_docs
from api.errors import ERROR_STATUS
from api.metrics import Metrics
from api.middleware import RequestContext
from api.routes import accounts, audit, drafts, health, jobs, knowledge_base, metrics, records, tickets
from copilot.observability import configure_logging
from copilot.pipeline import warm_up
from copilot.services import Services, build_services, load_triage_model
from copilot.settings import Settings
from copilot.store.accounts import NotSignedIn, SignInThrottled


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
        openapi_url=None,  # api/docs.py serves the schema to signed-in callers only
    )
    app.state.services = services
    app.state.metrics = Metrics(services)
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    add_docs(app)
    add_console(app)
    for router in (
        tickets.router,
        records.router,
        jobs.router,
        drafts.router,
        knowledge_base.router,
        audit.router,
        accounts.router,
        health.router,
        metrics.router,
    ):
        app.include_router(router)
    _error_handlers(app)
    return app


def _error_handlers(app: FastAPI) -> None:
    def handler(status: int):  # type: ignore[no-untyped-def]
        async def respond(request: Request, exc: Exception) -> Response:
            if request.url.path.startswith("/console"):
                return _console_error(request, exc, status)
            response = JSONResponse(status_code=status, content={"detail": str(exc)})
            if isinstance(exc, SignInThrottled):
                response.headers["Retry-After"] = str(exc.retry_after_s)
            return response

        return respond

    for exception, status in ERROR_STATUS.items():
        app.add_exception_handler(exception, handler(status))


def _console_error(request: Request, exc: Exception, status: int) -> Response:
    """A person in the console gets a page, not JSON: the sign-in page when not signed in (htmx follows the
    HX-Redirect header), otherwise the error page saying what went wrong."""
    if isinstance(exc, NotSignedIn):
        reason = "expired" if "expired" in str(exc) else "required"
        target = f"/console/login?reason={reason}&next={quote(request.url.path)}"
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    caller = getattr(request.state, "caller", None)
    title = {403: "Not allowed", 404: "Not found", 409: "Already done"}.get(status, "Cannot do that")
    return render(request, "error.html", caller, status, title=title, detail=str(exc))
