"""Who is calling, and whether their role may use the route.

A caller is a service with an API key (`X-API-Key: cpk_...` or `Authorization: Bearer cpk_...`) or a person
signed in to the console (the HttpOnly, SameSite session cookie). Every route but health, the console's
sign-in page and its static files declares the roles it allows with `allow(...)`; a test walks every route
with every role. A cookie alone never authorises a write: an unsafe method must also carry the session's
CSRF token, in the `X-CSRF-Token` header or the `csrf_token` form field, which another site cannot read.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from api.deps import services
from copilot.domain.accounts import Actor, Role
from copilot.observability import REQUEST_ID
from copilot.store.accounts import NotSignedIn, Session

SESSION_COOKIE = "copilot_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
KEY_HEADER = "X-API-Key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EVERYONE = tuple(Role)


class Forbidden(Exception):
    """A signed-in caller whose role may not use the route (HTTP 403)."""


class CsrfRefused(Exception):
    """A write with the session cookie but without the session's CSRF token (HTTP 403)."""


@dataclass(frozen=True)
class Caller:
    actor: Actor
    session: Session | None = None  # set for a person in the console: its CSRF token goes into the page's forms


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def identify(request: Request) -> Caller:
    """The caller, from an API key or the session cookie; raises NotSignedIn or CsrfRefused."""
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    accounts = services(request).accounts
    address, request_id = client_address(request), REQUEST_ID.get()  # set by api.middleware.RequestContext
    presented = request.headers.get(KEY_HEADER) or _bearer(request)
    if presented:
        caller = Caller(accounts.key_for(presented).actor(address=address, request_id=request_id))
    elif token := request.cookies.get(SESSION_COOKIE):
        session = accounts.session(token)
        if request.method not in SAFE_METHODS:
            await _check_csrf(request, session)
        caller = Caller(session.user.actor(address=address, request_id=request_id), session)
    else:
        raise NotSignedIn(f"sign in to the console, or send an API key in the {KEY_HEADER} header")
    request.app.state.principal_limits.take(caller.actor.name)  # RateLimited: 429 with Retry-After
    request.state.caller = caller
    return caller


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _check_csrf(request: Request, session: Session) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)  # Starlette keeps the parsed form for the route
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf_token):
        raise CsrfRefused("missing or wrong CSRF token: reload the page and try again")


def allow(*roles: Role) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency that admits callers of these roles and returns them; raises NotSignedIn or Forbidden."""

    async def admitted(request: Request) -> Caller:
        caller = await identify(request)
        if not caller.actor.may(*roles):
            role = caller.actor.role.value if caller.actor.role else "no role"
            raise Forbidden(f"{caller.actor.name} ({role}) may not use this; it needs {' or '.join(roles)}")
        return caller

    admitted.roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the route x role test
    return admitted
