"""The console's library-health pages for SOP writers (QA may read): coverage, gaps, conflicts and the template
edits suggested by agents' edits, which a writer accepts (a draft revision) or dismisses.

Ticket text on these pages is masked (copilot/workbench/gaps.py `shown_text`); a writer opens a document at
/console/sop/{doc_id}. A form's success redirects back (303) with a message picked from a fixed list by code.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console.templating import render
from api.deps import services
from api.errors import status_of
from api.security import Caller, allow
from copilot.domain.accounts import Role
from copilot.services import Services
from copilot.workbench.coverage import coverage
from copilot.workbench.gaps import gaps
from copilot.workbench.revisions import RevisionInvalid
from copilot.workbench.suggestions import SuggestionNotFound, accept, dismiss, suggestions
from knowledge_base.conflicts import conflicts_in_folder

router = APIRouter(prefix="/console/sop", include_in_schema=False)
Svc = Annotated[Services, Depends(services)]
Reader = Annotated[Caller, Depends(allow(Role.SOP_WRITER, Role.ADMIN, Role.QA))]
Writer = Annotated[Caller, Depends(allow(Role.SOP_WRITER, Role.ADMIN))]
COVERAGE, GAPS, CONFLICTS, SUGGESTIONS = (
    f"/console/sop/{page}" for page in ("coverage", "gaps", "conflicts", "suggestions")
)
TABS = [("Coverage", COVERAGE), ("Gaps", GAPS), ("Conflicts", CONFLICTS), ("Suggested edits", SUGGESTIONS)]
DONE = {"dismissed": "Suggestion dismissed: it will not be proposed again."}


def _page(request: Request, template: str, caller: Caller, status: int = 200, **context: Any) -> HTMLResponse:
    writes = caller.actor.may(Role.SOP_WRITER, Role.ADMIN)
    return render(request, template, caller, status, tabs=TABS, here=request.url.path, can_write=writes, **context)


@router.get("/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, svc: Svc, caller: Reader) -> HTMLResponse:
    return _page(request, "library_coverage.html", caller, report=coverage(svc))


@router.get("/gaps", response_class=HTMLResponse)
def gaps_page(request: Request, svc: Svc, caller: Reader) -> HTMLResponse:
    return _page(request, "library_gaps.html", caller, report=gaps(svc))


@router.get("/conflicts", response_class=HTMLResponse)
def conflicts_page(request: Request, svc: Svc, caller: Reader) -> HTMLResponse:
    found = conflicts_in_folder(svc.settings.sop_dir, svc.taxonomy)
    return _page(request, "library_conflicts.html", caller, conflicts=found)


def _suggestions_page(
    request: Request, svc: Services, caller: Caller, status: int = 200, **context: Any
) -> HTMLResponse:
    return _page(request, "library_suggestions.html", caller, status, suggestions=suggestions(svc), **context)


@router.get("/suggestions", response_class=HTMLResponse)
def suggestions_page(request: Request, svc: Svc, caller: Reader, done: str | None = None) -> HTMLResponse:
    return _suggestions_page(request, svc, caller, message=DONE.get(done or ""))


@router.post("/suggestions/{suggestion_id}/accept", response_model=None)
def accept_suggestion(
    request: Request, suggestion_id: str, svc: Svc, caller: Writer
) -> HTMLResponse | RedirectResponse:
    try:
        accepted = accept(suggestion_id, services=svc, by=caller.actor)
    except (SuggestionNotFound, RevisionInvalid) as exc:
        return _suggestions_page(request, svc, caller, status_of(exc), error=f"Not accepted: {exc}")
    # The draft revision is the workbench's: the writer previews its impact and publishes it there.
    return RedirectResponse(f"/console/sop/revisions/{accepted.revision_id}", status_code=303)


@router.post("/suggestions/{suggestion_id}/dismiss", response_model=None)
def dismiss_suggestion(
    request: Request, suggestion_id: str, svc: Svc, caller: Writer
) -> HTMLResponse | RedirectResponse:
    try:
        dismiss(suggestion_id, services=svc, by=caller.actor)
    except SuggestionNotFound as exc:
        return _suggestions_page(request, svc, caller, status_of(exc), error=f"Not dismissed: {exc}")
    return RedirectResponse(f"{SUGGESTIONS}?done=dismissed", status_code=303)
