"""What the SOP library is missing: coverage, gaps, conflicts, and template edits suggested by agents' edits.

SOP writers and admins read and act; QA may read. The reports read what the records hold (a GET never drafts:
`copilot kb coverage` drafts eval cases the records lack).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.deps import services
from api.schemas import AUTH_ERRORS, AcceptedSuggestion, ConflictReport, ErrorBody
from api.security import Caller, allow
from copilot.domain.accounts import Role
from copilot.services import Services
from copilot.workbench.coverage import CoverageReport, coverage
from copilot.workbench.gaps import GapReport, gaps
from copilot.workbench.suggestions import Suggestion, accept, dismiss, suggestions
from knowledge_base.conflicts import conflicts_in_folder

router = APIRouter(prefix="/v1/kb", tags=["library health"], responses=AUTH_ERRORS)
Svc = Annotated[Services, Depends(services)]
READERS = [Depends(allow(Role.SOP_WRITER, Role.ADMIN, Role.QA))]
Writer = Annotated[Caller, Depends(allow(Role.SOP_WRITER, Role.ADMIN))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


@router.get("/coverage", response_model=CoverageReport, summary="Coverage of the SOP library", dependencies=READERS)
def coverage_report(svc: Svc) -> CoverageReport:
    """Per document, section and template: eval cases that exercise it, real drafts that used it and how they were
    decided; templates and escalation rules no eval case exercises first."""
    return coverage(svc)


@router.get("/gaps", response_model=GapReport, summary="Gaps in the SOP library", dependencies=READERS)
def gap_report(svc: Svc) -> GapReport:
    """Tickets the copilot could not answer well, clustered by topic (ticket text masked), and tickets in a
    language their SOP has no template in."""
    return gaps(svc)


@router.get("/conflicts", response_model=ConflictReport, summary="Conflicts between documents", dependencies=READERS)
def conflict_report(svc: Svc) -> ConflictReport:
    """The SOP folder as the next ingest would read it: errors (which stop it) and warnings, each naming its files."""
    found = conflicts_in_folder(svc.settings.sop_dir, svc.taxonomy)
    errors = sum(c.severity == "error" for c in found)
    return ConflictReport(errors=errors, warnings=len(found) - errors, conflicts=found)


@router.get("/suggestions", response_model=list[Suggestion], summary="Suggested template edits", dependencies=READERS)
def suggestion_list(svc: Svc) -> list[Suggestion]:
    """Sentences agents add to (or delete from) a template's drafts in a large share of their edits."""
    return suggestions(svc)


@router.post(
    "/suggestions/{suggestion_id}/accept",
    response_model=AcceptedSuggestion,
    status_code=201,
    responses={**NOT_FOUND, 422: {"model": ErrorBody}},
    summary="Accept a suggested template edit",
)
def accept_suggestion(suggestion_id: str, svc: Svc, caller: Writer) -> AcceptedSuggestion:
    """Save the template's document with the change (and the next patch version) as a draft revision."""
    accepted = accept(suggestion_id, services=svc, by=caller.actor)
    return AcceptedSuggestion(suggestion=accepted.suggestion, revision_id=accepted.revision_id)


@router.post(
    "/suggestions/{suggestion_id}/dismiss",
    response_model=Suggestion,
    responses=NOT_FOUND,
    summary="Dismiss a suggested template edit",
)
def dismiss_suggestion(suggestion_id: str, svc: Svc, caller: Writer) -> Suggestion:
    """Not proposed again; kept in the audit log."""
    return dismiss(suggestion_id, services=svc, by=caller.actor)
