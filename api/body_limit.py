"""A request body larger than the limit is refused with 413 before it is read: at once when its Content-Length
says so, and otherwise (a chunked body, or a Content-Length that lies) as soon as the bytes received pass the
limit, so no route ever holds more than the limit in memory or spends time parsing it.

Backlog uploads (POST /v1/triage/jobs) are files of many tickets, triaged later in chunks: they have a limit of
their own (`max_upload_bytes`); every other body has `max_body_bytes`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.rate_limits import refuse

UPLOAD_PATHS = ("/v1/triage/jobs",)


class BodyTooLarge(Exception):
    """Raised from `receive` when the bytes read pass the limit; the middleware answers 413 instead."""


class BodyLimit:
    """ASGI middleware enforcing the body limits (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    def limit_for(self, scope: Scope) -> tuple[int, str]:
        """The byte limit of this request's body, and the setting that sets it."""
        if str(scope.get("path", "")).rstrip("/") in UPLOAD_PATHS:
            return self.max_upload_bytes, "max_upload_bytes"
        return self.max_body_bytes, "max_body_bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self.limit_for(scope)
        detail = f"the request body is larger than the limit of {limit} bytes ({setting})"
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await refuse(send, 413, detail, [(b"connection", b"close")])
            return

        received = 0
        exceeded = False
        started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(detail)
            return message

        async def answer(message: Message) -> None:
            # Once the limit is passed, whatever the app makes of the broken body (FastAPI answers 400 "error
            # parsing the body") is replaced by the 413 that says why.
            nonlocal started
            if exceeded:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await refuse(send, 413, detail, [(b"connection", b"close")])
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not exceeded:
                raise
            # BodyTooLarge itself, or what a layer between made of it: either way the body was too large.
            if not started:
                started = True
                await refuse(send, 413, detail, [(b"connection", b"close")])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
