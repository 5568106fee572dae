"""The change-impact preview over HTTP: what an SOP edit, or a draft revision, would change before it is published
(copilot/workbench/impact.py does the work)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.deps import services
from api.schemas import AUTH_ERRORS, ErrorBody, ImpactIn, ImpactOut
from api.security import Caller, allow
from copilot.domain.accounts import Role
from copilot.services import Services
from copilot.workbench.impact import preview_impact, preview_revision

router = APIRouter(prefix="/v1/kb", tags=["SOP workbench"], responses=AUTH_ERRORS)
Svc = Annotated[Services, Depends(services)]
Writer = Annotated[Caller, Depends(allow(Role.SOP_WRITER, Role.ADMIN))]
REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "The text cannot be published: the problem names field and line."}
}


@router.post("/impact", response_model=ImpactOut, responses=REFUSED, summary="Preview an SOP edit's impact")
def impact(body: ImpactIn, svc: Svc, caller: Writer) -> ImpactOut:
    """Replay the eval cases and recent decided drafts the edit touches against the published library and against
    the library with the edit in it. Nothing is stored or published."""
    return ImpactOut.model_validate(preview_impact(body.doc_id, body.text, services=svc).to_dict())


@router.post(
    "/revisions/{revision_id}/impact",
    response_model=ImpactOut,
    responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}, **REFUSED},
    summary="Preview a draft revision's impact",
)
def revision_impact(revision_id: int, svc: Svc, caller: Writer) -> ImpactOut:
    """The impact preview of a draft revision; its verdict is kept on the revision, where publishing reads it."""
    return ImpactOut.model_validate(preview_revision(revision_id, services=svc, by=caller.actor).to_dict())
