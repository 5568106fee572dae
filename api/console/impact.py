"""The impact preview button of a draft revision's page: run the preview as the signed-in writer, keep its verdict
on the revision, and show the revision page again with the report (api/console/templates/_impact.html)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.console.sop_workbench import show_revision
from api.deps import services
from api.errors import status_of
from api.security import Caller, allow
from copilot.domain.accounts import Role
from copilot.services import Services
from copilot.store.sop_revisions import RevisionNotDraft
from copilot.workbench.impact import preview_revision
from knowledge_base.loader import SopError

router = APIRouter(prefix="/console/sop", include_in_schema=False)
Svc = Annotated[Services, Depends(services)]
SopWriter = Annotated[Caller, Depends(allow(Role.SOP_WRITER, Role.ADMIN))]


@router.post("/revisions/{revision_id}/impact", response_model=None)
def preview(request: Request, revision_id: int, svc: Svc, caller: SopWriter) -> Response:
    try:
        preview_revision(revision_id, services=svc, by=caller.actor)
    except (RevisionNotDraft, SopError) as exc:
        revision = svc.sop_revisions.get(revision_id)
        return show_revision(request, svc, caller, revision, status_of(exc), error=f"No impact preview: {exc}")
    return RedirectResponse(f"/console/sop/revisions/{revision_id}#impact", status_code=303)
