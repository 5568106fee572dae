"""Every HTTP request gets an id, one log line and its metrics.

The id comes from the caller's X-Request-ID header when it is sane (1 to 100 of A-Z a-z 0-9 . _ -),
otherwise a new one; every log line written while the request is served carries it, and the response
returns it in X-Request-ID. The log line and the metrics name the route template
(`/v1/drafts/{draft_id}`), never the raw path, the query string or the body.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics
from copilot.observability import REQUEST_ID

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
UNMATCHED = "unmatched"  # a path no route serves: its text is the caller's, so it is neither logged nor a label
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
QUIET_ROUTES = ("/v1/health", "/metrics")  # probes and scrapes, every few seconds: logged at DEBUG

logger = logging.getLogger("api.requests")


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-ID if it is sane, else a new random id (32 hex digits)."""
    wanted = REQUEST_ID_HEADER.lower().encode("latin-1")
    for name, value in scope.get("headers", []):
        if name.lower() == wanted:
            given: str = value.decode("latin-1")
            if SANE_REQUEST_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The path template of the route that served the request (set in the scope by the router), or UNMATCHED."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNMATCHED


class RequestContext:
    """ASGI middleware: the request id, one log line per request, and the request count and latency."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        token = REQUEST_ID.set(request_id)
        header = (REQUEST_ID_HEADER.lower().encode("latin-1"), request_id.encode("latin-1"))
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # A bug: answer 500 here so the answer carries the id, then let the server log the traceback.
            # The id stays set: the server logs from this request's own task, so its line carries the id too.
            if not response_started:
                await _internal_error(send_with_id)
            self._record(scope, status, started)
            raise
        self._record(scope, status, started)
        REQUEST_ID.reset(token)

    def _record(self, scope: Scope, status: int, started: float) -> None:
        seconds = time.perf_counter() - started
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = route_template(scope)
        self.metrics.request(method=method, route=route, status=status, seconds=seconds)
        level = logging.ERROR if status >= 500 else logging.DEBUG if route.startswith(QUIET_ROUTES) else logging.INFO
        duration_ms = round(seconds * 1000, 1)
        logger.log(
            level,
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            duration_ms,
            extra={"method": method, "route": route, "status": status, "duration_ms": duration_ms},
        )


async def _internal_error(send: Send) -> None:
    body = json.dumps({"detail": "Internal Server Error"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
