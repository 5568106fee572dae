"""Triage a ticket; suggest a reply for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from api.deps import metrics, services, to_ticket
from api.metrics import Metrics
from api.schemas import BatchProblem, BatchTriage, ErrorBody, TicketBatch, TicketIn
from copilot.domain import Draft, Ticket, Triage
from copilot.domain.tickets import TicketTooLong, admit
from copilot.pipeline import suggest, triage_batch, triage_ticket
from copilot.services import Services

router = APIRouter(prefix="/v1", tags=["tickets"])
Svc = Annotated[Services, Depends(services)]
Meter = Annotated[Metrics, Depends(metrics)]
ERRORS: dict[int | str, dict[str, object]] = {413: {"model": ErrorBody}, 422: {"model": ErrorBody}}


@router.post("/triage", response_model=Triage, responses=ERRORS, summary="Label a ticket")
def triage_endpoint(body: TicketIn, svc: Svc, meter: Meter) -> Triage:
    """LOB, intent, confidence and routing, priority, tier, risk flags and language."""
    result = triage_ticket(to_ticket(body), services=svc)
    meter.triaged([result])
    return result


@router.post("/triage/batch", response_model=BatchTriage, responses=ERRORS, summary="Label many tickets")
def triage_batch_endpoint(body: TicketBatch, svc: Svc, meter: Meter) -> BatchTriage:
    """Bulk tagging: the same labels as one by one; bad tickets are listed in `skipped`, never dropped."""
    good: list[Ticket] = []
    skipped: list[BatchProblem] = []
    limit = svc.settings.max_ticket_chars
    for index, item in enumerate(body.tickets):
        try:
            good.append(admit(to_ticket(item), max_chars=limit))
        except (HTTPException, TicketTooLong) as exc:
            skipped.append(BatchProblem(index=index, detail=str(getattr(exc, "detail", exc))))
    results = triage_batch(good, services=svc) if good else []
    meter.triaged(results)
    return BatchTriage(results=results, skipped=skipped)


@router.post("/suggest", response_model=Draft, status_code=201, responses=ERRORS, summary="Suggest a reply")
def suggest_endpoint(body: TicketIn, svc: Svc, meter: Meter) -> Draft:
    """Triage the ticket, retrieve SOP passages, and store a pending draft (reply, question or escalation)."""
    svc.require_index()  # 503 (KnowledgeBaseEmpty) rather than a draft that cites nothing
    draft = suggest(to_ticket(body), services=svc)
    meter.suggested(draft, services=svc)
    return draft
