"""Triage a ticket; suggest a reply for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import services, to_ticket
from api.schemas import ErrorBody, TicketIn
from copilot.domain import Draft, Triage
from copilot.pipeline import suggest, triage_ticket
from copilot.services import Services

router = APIRouter(prefix="/v1", tags=["tickets"])
Svc = Annotated[Services, Depends(services)]
ERRORS: dict[int | str, dict[str, object]] = {413: {"model": ErrorBody}, 422: {"model": ErrorBody}}


@router.post("/triage", response_model=Triage, responses=ERRORS, summary="Label a ticket")
def triage_endpoint(body: TicketIn, svc: Svc) -> Triage:
    """LOB, intent, confidence and routing, priority, tier, risk flags and language."""
    return triage_ticket(to_ticket(body), services=svc)


@router.post("/suggest", response_model=Draft, status_code=201, responses=ERRORS, summary="Suggest a reply")
def suggest_endpoint(body: TicketIn, svc: Svc) -> Draft:
    """Triage the ticket, retrieve SOP passages, and store a pending draft (reply, question or escalation)."""
    return suggest(to_ticket(body), services=svc)
