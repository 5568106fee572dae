"""Signing in and out of the console: the only console page open to anyone is the sign-in page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console.templating import NAVIGATION, QUEUE, render
from api.deps import services
from api.security import EVERYONE, SESSION_COOKIE, Caller, allow, client_address
from copilot.domain.accounts import Role
from copilot.store.accounts import SignInRefused, SignInThrottled

router = APIRouter(prefix="/console", include_in_schema=False)


# Why a person lands on the sign-in page: a code in the address, never text from it (it could be anyone's).
REASONS = {
    "required": "Sign in to continue.",
    "expired": "Your session has expired; sign in again.",
    "signed_out": "Signed out.",
}


def _safe_next(target: str | None) -> str:
    """Only a console path: never send a person signing in to another site."""
    return target if target and target.startswith("/console") and not target.startswith("//") else "/console"


def _landing(target: str, role: Role) -> str:
    """Where a person goes after signing in: the page they asked for, except that the queue (the default) is
    not everyone's; an SOP writer lands on the first section their navigation offers."""
    if target != QUEUE:
        return target
    return next((href for _, href, roles in NAVIGATION if role in roles), QUEUE)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None, reason: str | None = None) -> HTMLResponse:
    return render(request, "login.html", None, next=_safe_next(next), message=REASONS.get(reason or ""))


@router.post("/login", response_model=None)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/console",
) -> Response:
    accounts = services(request).accounts
    try:
        token, session = accounts.sign_in(username, password, address=client_address(request))
    except SignInThrottled as exc:
        page = render(request, "login.html", None, 429, next=_safe_next(next), username=username, error=str(exc))
        page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    except SignInRefused as exc:
        return render(
            request, "login.html", None, 401, next=_safe_next(next), username=username, error=str(exc).capitalize()
        )
    response = RedirectResponse(_landing(_safe_next(next), session.user.role), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=services(request).settings.cookie_secure,
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, caller: Annotated[Caller, Depends(allow(*EVERYONE))]) -> RedirectResponse:
    if caller.session is not None:  # a caller with an API key has no session to end
        services(request).accounts.sign_out(request.cookies[SESSION_COOKIE], by=caller.actor)
    response = RedirectResponse("/console/login?reason=signed_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
