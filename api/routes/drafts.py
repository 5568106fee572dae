"""Read a draft; record an agent's decision on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import metrics, services
from api.metrics import Metrics
from api.schemas import AUTH_ERRORS, DecisionIn, ErrorBody
from api.security import Caller, allow
from copilot.domain import Draft, Transition
from copilot.domain.accounts import Role
from copilot.services import Services

router = APIRouter(prefix="/v1/drafts", tags=["drafts"], responses=AUTH_ERRORS)
Svc = Annotated[Services, Depends(services)]
READERS = [Depends(allow(Role.SPECIALIST, Role.QA, Role.ADMIN))]
Decider = Annotated[Caller, Depends(allow(Role.SPECIALIST, Role.ADMIN))]


@router.get(
    "/{draft_id}",
    response_model=Draft,
    responses={404: {"model": ErrorBody}},
    summary="Read a draft",
    dependencies=READERS,
)
def get_draft(draft_id: str, svc: Svc) -> Draft:
    return svc.store.get(draft_id)


@router.get(
    "/{draft_id}/history",
    response_model=list[Transition],
    responses={404: {"model": ErrorBody}},
    summary="A draft's transitions",
    dependencies=READERS,
)
def get_history(draft_id: str, svc: Svc) -> list[Transition]:
    svc.store.get(draft_id)  # 404 for an unknown draft rather than an empty list
    return svc.store.transitions(draft_id)


@router.post(
    "/{draft_id}/decision",
    response_model=Transition,
    status_code=201,
    responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    summary="Approve, edit or reject a draft",
)
def decide(
    draft_id: str, body: DecisionIn, svc: Svc, meter: Annotated[Metrics, Depends(metrics)], caller: Decider
) -> Transition:
    """A draft is decided once; a second decision gets 409 and changes nothing. The decision is recorded as the
    signed-in caller's."""
    decision = body.as_decision(caller.actor)
    transition = svc.store.decide(draft_id, decision, by=caller.actor)
    meter.decided(decision)
    return transition
