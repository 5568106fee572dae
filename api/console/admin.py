"""The console's pages for admins and QA: accounts and API keys, and the audit log (the SOP library's pages are in
api/console/sop_workbench.py).

Every write goes through the stores or the pipeline as the signed-in caller, so the audit log names who did
it. A form's error is shown on its own page with the status the API gives the same error, and nothing is
stored; a success redirects back (303) with a message picked from a fixed list by code, never text from the
address. The one exception is a new API key: its page is rendered straight away, so the secret never sits
in a URL, a browser history or a proxy's log.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console.templating import render
from api.deps import services
from api.errors import status_of
from api.security import Caller, allow
from copilot.domain.accounts import ActorKind, Role
from copilot.domain.records import AuditAction, AuditEntry
from copilot.services import Services
from copilot.store.accounts import MIN_PASSWORD_CHARS, AccountError

router = APIRouter(prefix="/console", include_in_schema=False)
Svc = Annotated[Services, Depends(services)]
Admin = Annotated[Caller, Depends(allow(Role.ADMIN))]
Auditor = Annotated[Caller, Depends(allow(Role.ADMIN, Role.QA))]

# What a redirect after a write may say: the address carries only the code.
DONE = {
    "user-added": "User added.",
    "user-disabled": "User disabled: they can no longer sign in, and their open sessions have ended.",
    "key-revoked": "API key revoked: calls with it are refused from now on.",
}
AUDIT_PAGE = 50
# Actions whose target is a ticket id (the console has a page for each ticket); other targets are drafts,
# users and keys, shown as plain text.
TICKET_TARGETS = frozenset({AuditAction.TICKET_STORED, AuditAction.LABELS_CORRECTED, AuditAction.TICKET_TEXT_REVEALED})


def _done(path: str, code: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={code}", status_code=303)


# Accounts


def _accounts_page(request: Request, svc: Services, caller: Caller, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user_form", {"name": "", "role": Role.SPECIALIST})
    context.setdefault("key_form", {"name": "", "role": Role.SERVICE})
    return render(
        request,
        "accounts.html",
        caller,
        status,
        users=svc.accounts.users(),
        keys=svc.accounts.keys(),
        roles=list(Role),
        min_password=MIN_PASSWORD_CHARS,
        **context,
    )


@router.get("/admin", response_class=HTMLResponse)
def accounts(request: Request, svc: Svc, caller: Admin, done: str | None = None) -> HTMLResponse:
    return _accounts_page(request, svc, caller, message=DONE.get(done or ""))


@router.post("/admin/users", response_model=None)
def add_user(
    request: Request,
    svc: Svc,
    caller: Admin,
    name: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[Role, Form()] = Role.SPECIALIST,
    password: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse | RedirectResponse:
    try:
        svc.accounts.add_user(name.strip(), role, password, by=caller.actor)
    except AccountError as exc:  # a bad name, a short password, a name taken: the form comes back filled in
        return _accounts_page(
            request, svc, caller, status_of(exc), error=str(exc), user_form={"name": name, "role": role}
        )
    return _done("/console/admin", "user-added")


@router.post("/admin/users/{name}/disable", response_model=None)
def disable_user(request: Request, name: str, svc: Svc, caller: Admin) -> HTMLResponse | RedirectResponse:
    if caller.actor.kind == ActorKind.USER and name == caller.actor.name:
        # Locking oneself out is never what was meant, and could leave the copilot with no admin at all.
        return _accounts_page(request, svc, caller, 422, error="You cannot disable your own account.")
    try:
        svc.accounts.disable_user(name, by=caller.actor)
    except AccountError as exc:
        return _accounts_page(request, svc, caller, status_of(exc), error=str(exc))
    return _done("/console/admin", "user-disabled")


@router.post("/admin/keys", response_class=HTMLResponse)
def create_key(
    request: Request,
    svc: Svc,
    caller: Admin,
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[Role, Form()] = Role.SERVICE,
) -> HTMLResponse:
    try:
        key, secret = svc.accounts.create_key(name.strip(), role, by=caller.actor)
    except AccountError as exc:
        return _accounts_page(
            request, svc, caller, status_of(exc), error=str(exc), key_form={"name": name, "role": role}
        )
    page = _accounts_page(request, svc, caller, new_key=key, new_key_secret=secret)
    page.headers["Cache-Control"] = "no-store"  # the secret must not outlive this page in any cache
    return page


@router.post("/admin/keys/{key_id}/revoke", response_model=None)
def revoke_key(request: Request, key_id: str, svc: Svc, caller: Admin) -> HTMLResponse | RedirectResponse:
    try:
        svc.accounts.revoke_key(key_id, by=caller.actor)
    except AccountError as exc:  # an unknown key, or one revoked already
        return _accounts_page(request, svc, caller, status_of(exc), error=str(exc))
    return _done("/console/admin", "key-revoked")


# The audit log


def compact_json(detail: dict[str, object]) -> str:
    """An entry's detail on one line (the template escapes it)."""
    return json.dumps(detail, separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=str)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    svc: Svc,
    caller: Auditor,
    action: Annotated[str, Query(max_length=50)] = "",
    actor: Annotated[str, Query(max_length=200)] = "",
    target: Annotated[str, Query(max_length=100)] = "",
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    # The filter form sends empty fields for "any", so every filter arrives as text and "" means none.
    filters = {"action": action, "actor": actor.strip(), "target": target.strip()}
    context: dict[str, Any] = {
        "filters": filters,
        "actions": list(AuditAction),
        "ticket_targets": TICKET_TARGETS,
        "compact_json": compact_json,
        "paged": before_id is not None,
        "newest_url": _audit_url(filters),
    }
    try:
        chosen = AuditAction(action) if action else None
    except ValueError:
        return render(
            request, "audit.html", caller, 422, entries=[], error="Unknown action: pick one from the list.", **context
        )
    entries: list[AuditEntry] = svc.audit.entries(
        action=chosen,
        actor=filters["actor"] or None,
        target=filters["target"] or None,
        before_id=before_id,
        limit=AUDIT_PAGE + 1,  # one more than shown: whether there is an older page
    )
    older = _audit_url(filters, before_id=entries[AUDIT_PAGE - 1].id) if len(entries) > AUDIT_PAGE else None
    return render(request, "audit.html", caller, entries=entries[:AUDIT_PAGE], older_url=older, **context)


def _audit_url(filters: dict[str, str], *, before_id: int | None = None) -> str:
    query = {name: value for name, value in filters.items() if value}
    if before_id is not None:
        query["before_id"] = str(before_id)
    return f"/console/audit?{urlencode(query)}" if query else "/console/audit"
