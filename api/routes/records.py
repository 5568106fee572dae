"""Tickets as records: the queue, one ticket with its drafts, label corrections, revealing masked text, and
the corrections as training data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response

from api.deps import services
from api.schemas import AUTH_ERRORS, ErrorBody, RevealedText, TicketOut
from api.security import Caller, allow
from copilot.domain import Draft
from copilot.domain.accounts import Role
from copilot.domain.records import LabelChange, LabelCorrection, TicketStatus
from copilot.pipeline import correct_labels, reveal_text, suggest_for
from copilot.services import Services
from copilot.store.corrected import corrected_examples
from copilot.store.tickets import QueueFilter

router = APIRouter(prefix="/v1", tags=["records"], responses=AUTH_ERRORS)
Svc = Annotated[Services, Depends(services)]
READERS = [Depends(allow(Role.SPECIALIST, Role.QA, Role.ADMIN))]
Worker = Annotated[Caller, Depends(allow(Role.SPECIALIST, Role.ADMIN))]
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": ErrorBody}}


@router.get("/tickets", response_model=list[TicketOut], summary="The ticket queue", dependencies=READERS)
def ticket_queue(
    svc: Svc,
    lob: str | None = None,
    queue: str | None = None,
    status: TicketStatus | None = TicketStatus.OPEN,
    language: str | None = None,
    risk_flag: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[TicketOut]:
    """Tickets most urgent first (priority, then SLA due time), open ones unless `status` says otherwise; text
    holding personal data is masked."""
    where = QueueFilter(lob=lob, queue=queue, status=status, language=language, risk_flag=risk_flag)
    return [TicketOut.of(r, svc.taxonomy) for r in svc.tickets.queue(where, limit=limit)]


@router.get(
    "/tickets/{ticket_id}", response_model=TicketOut, responses=NOT_FOUND, summary="A ticket", dependencies=READERS
)
def get_ticket(ticket_id: str, svc: Svc) -> TicketOut:
    return TicketOut.of(svc.tickets.get(ticket_id), svc.taxonomy)


@router.post(
    "/tickets/{ticket_id}/reveal", response_model=RevealedText, responses=NOT_FOUND, summary="Reveal masked text"
)
def reveal(ticket_id: str, svc: Svc, caller: Worker) -> RevealedText:
    """The ticket's text unmasked; the reveal is written to the audit log."""
    record = reveal_text(ticket_id, services=svc, by=caller.actor)
    return RevealedText(ticket_id=record.id, text=record.text)


@router.post(
    "/tickets/{ticket_id}/labels",
    response_model=LabelCorrection,
    status_code=201,
    responses={**NOT_FOUND, 422: {"model": ErrorBody}},
    summary="Correct a ticket's labels",
)
def correct(ticket_id: str, change: LabelChange, svc: Svc, caller: Worker) -> LabelCorrection:
    """The new labels are in force at once; the model's labels and every earlier correction are kept."""
    return correct_labels(ticket_id, change, services=svc, by=caller.actor)


@router.get(
    "/tickets/{ticket_id}/drafts",
    response_model=list[Draft],
    responses=NOT_FOUND,
    summary="A ticket's drafts",
    dependencies=READERS,
)
def ticket_drafts(ticket_id: str, svc: Svc) -> list[Draft]:
    svc.tickets.get(ticket_id)  # 404 for an unknown ticket rather than an empty list
    return svc.store.of_ticket(ticket_id)


@router.post(
    "/tickets/{ticket_id}/drafts",
    response_model=Draft,
    status_code=201,
    responses=NOT_FOUND,
    summary="Draft again from the labels in force",
)
def draft_again(ticket_id: str, svc: Svc, caller: Worker) -> Draft:
    """A new pending draft for the ticket (after a label correction, say); earlier drafts are kept."""
    svc.require_index()
    return suggest_for(svc.tickets.get(ticket_id), services=svc, by=caller.actor)


@router.get(
    "/label-corrections",
    response_class=Response,  # not PlainTextResponse: FastAPI would then document the JSON errors as text/plain
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "One JSON object a line."}},
    summary="Corrections as training data",
    dependencies=[Depends(allow(Role.QA, Role.ADMIN))],
)
def export_corrections(svc: Svc) -> PlainTextResponse:
    """Each corrected ticket with its labels in force, personal data redacted, as JSONL for
    `copilot triage train FILE --flags-column risk_flags`."""
    lines = [example.model_dump_json() + "\n" for example in corrected_examples(svc.tickets, svc.taxonomy)]
    return PlainTextResponse("".join(lines), media_type="application/x-ndjson")
