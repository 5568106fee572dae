"""Triage a ticket; suggest a reply for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from api.deps import metrics, services, to_ticket
from api.metrics import Metrics
from api.schemas import AUTH_ERRORS, BatchProblem, BatchTriage, ErrorBody, TicketBatch, TicketIn
from api.security import Caller, allow
from copilot.domain import Draft, Ticket, Triage
from copilot.domain.accounts import Role
from copilot.domain.tickets import TicketTooLong, admit, admit_batch
from copilot.pipeline import intake, suggest_for, triage_batch
from copilot.services import Services

router = APIRouter(prefix="/v1", tags=["tickets"], responses=AUTH_ERRORS)
Svc = Annotated[Services, Depends(services)]
Meter = Annotated[Metrics, Depends(metrics)]
Intake = Annotated[Caller, Depends(allow(Role.SERVICE, Role.SPECIALIST, Role.ADMIN))]
ERRORS: dict[int | str, dict[str, object]] = {413: {"model": ErrorBody}, 422: {"model": ErrorBody}}


@router.post("/triage", response_model=Triage, responses=ERRORS, summary="Label a ticket")
def triage_endpoint(body: TicketIn, svc: Svc, meter: Meter, caller: Intake) -> Triage:
    """LOB, intent, confidence and routing, priority, tier, risk flags and language. The ticket is kept as a
    record with its labels; sent again with the same `helpdesk_id`, it is not triaged or kept twice and the
    kept labels are returned."""
    record = intake(to_ticket(body), services=svc, by=caller.actor, helpdesk_id=body.helpdesk_id)
    meter.triaged([record.labels])
    return record.labels


@router.post(
    "/triage/batch",
    response_model=BatchTriage,
    responses=ERRORS,
    summary="Label many tickets",
    dependencies=[Depends(allow(Role.SERVICE, Role.ADMIN))],
)
def triage_batch_endpoint(body: TicketBatch, svc: Svc, meter: Meter) -> BatchTriage:
    """Bulk re-tagging: the same labels as one by one, returned and not kept as records; bad tickets are listed
    in `skipped`, never dropped. A batch over `max_batch_tickets` tickets or `max_batch_chars` characters in all
    is refused whole (413): split it, or send it as a job."""
    settings = svc.settings
    lengths = [len(item.text) for item in body.tickets]
    admit_batch(lengths, max_tickets=settings.max_batch_tickets, max_chars=settings.max_batch_chars)
    good: list[Ticket] = []
    skipped: list[BatchProblem] = []
    limit = settings.max_ticket_chars
    for index, item in enumerate(body.tickets):
        try:
            good.append(admit(to_ticket(item), max_chars=limit))
        except (HTTPException, TicketTooLong) as exc:
            skipped.append(BatchProblem(index=index, detail=str(getattr(exc, "detail", exc))))
    results = triage_batch(good, services=svc) if good else []
    meter.triaged(results)
    return BatchTriage(results=results, skipped=skipped)


@router.post("/suggest", response_model=Draft, status_code=201, responses=ERRORS, summary="Suggest a reply")
def suggest_endpoint(body: TicketIn, svc: Svc, meter: Meter, caller: Intake) -> Draft:
    """Keep the ticket (as /v1/triage does), retrieve SOP passages, and store a pending draft (reply, question
    or escalation) from the ticket's labels in force."""
    svc.require_index()  # 503 (KnowledgeBaseEmpty) rather than a draft that cites nothing
    record = intake(to_ticket(body), services=svc, by=caller.actor, helpdesk_id=body.helpdesk_id)
    draft = suggest_for(record, services=svc, by=caller.actor)
    meter.suggested(draft, services=svc)
    return draft
