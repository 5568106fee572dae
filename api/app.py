"""The FastAPI app factory: the one place besides the CLI root that builds Settings."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.body_limit import BodyLimit
from api.console import add_console
from api.console.templating import render
from api.docs import add_docs
from api.errors import ERROR_STATUS, public_detail
from api.metrics import Metrics
from api.middleware import RequestContext
from api.openapi import publish_contract
from api.parameters import refuse_control_characters
from api.rate_limits import AddressRateLimit, TokenBuckets
from api.request_errors import add_request_error_handlers
from api.routes import (
    accounts,
    audit,
    drafts,
    health,
    impact,
    jobs,
    knowledge_base,
    library_health,
    metrics,
    records,
    sop_workbench,
    tickets,
)
from api.schemas import REQUEST_ERRORS
from copilot.observability import configure_logging
from copilot.pipeline import warm_up
from copilot.services import Services, build_services, load_triage_model
from copilot.settings import Settings
from copilot.store.accounts import NotSignedIn

logger = logging.getLogger(__name__)
# Where our own frames come from: where a database error was raised in our code says what went wrong.
OUR_CODE = tuple(str(Path(__file__).resolve().parent.parent / package) for package in ("api", "copilot"))


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
        dependencies=[Depends(refuse_control_characters)],  # every route's path, query and form values
        responses=REQUEST_ERRORS,  # what any route may answer before it runs (api/request_errors.py)
    )
    app.state.services = services
    app.state.metrics = Metrics(services)
    app.state.principal_limits = TokenBuckets(settings.rate_limit_per_principal, what="from this caller")
    # Innermost first: the body limit, then the address limit, then the request context (outermost), so a
    # refused request is still logged and counted with its request id.
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(
        AddressRateLimit, buckets=TokenBuckets(settings.rate_limit_per_address, what="from this address")
    )
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    add_docs(app)
    add_console(app)
    for router in (
        tickets.router,
        records.router,
        jobs.router,
        drafts.router,
        knowledge_base.router,
        library_health.router,
        sop_workbench.router,
        impact.router,
        audit.router,
        accounts.router,
        health.router,
        metrics.router,
    ):
        app.include_router(router)
    _error_handlers(app)
    add_request_error_handlers(app)
    publish_contract(app, services.taxonomy)
    return app


def _error_handlers(app: FastAPI) -> None:
    def handler(status: int):  # type: ignore[no-untyped-def]
        async def respond(request: Request, exc: Exception) -> Response:
            if status >= 500 and isinstance(exc, DBAPIError | PoolTimeout):
                _log_database_error(exc)
            if request.url.path.startswith("/console"):
                response = _console_error(request, exc, status)
            else:
                response = JSONResponse(status_code=status, content={"detail": public_detail(exc)})
            if (retry_after := getattr(exc, "retry_after_s", None)) is not None:  # throttled sign-in, rate limit
                response.headers["Retry-After"] = str(retry_after)
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
    return render(request, "error.html", caller, status, title=title, detail=public_detail(exc))


def _log_database_error(exc: Exception) -> None:
    """The error's kind, SQLSTATE and where it was raised, never its message: with parameters hidden the
    message still holds the statement, and a server's message can quote a value (a key's DETAIL)."""
    original = getattr(exc, "orig", None)
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None) or "-"
    kind = type(original).__name__ if original is not None else type(exc).__name__
    ours = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename.startswith(OUR_CODE)]
    where = "".join(traceback.format_list(ours[-3:])).rstrip()
    logger.error("records database error %s (SQLSTATE %s), raised at:\n%s", kind, code, where)
