"""The specialist's pages: the queue, a ticket with its draft and decision, a new ticket, and the citation view.

Every write goes through the pipeline or a store with the signed-in person as the actor, so the audit log and
a draft's history name them. Forms post plainly (the pages work without JavaScript); htmx only adds the
reveal and the live edit diff in place. After a write the page redirects (303) with a message code that
is mapped to text here, never echoed from the address.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console.presenting import citation_links, diff_lines, draft_figures, marked_reply, published_page
from api.console.templating import render
from api.deps import metrics, services
from api.metrics import Metrics
from api.security import Caller, allow
from copilot.domain import Decision, DecisionKind, DraftStatus, RejectReason, Ticket
from copilot.domain.accounts import Role
from copilot.domain.approval import edit_diff
from copilot.domain.drafts import DecisionFields
from copilot.domain.personal_data import masked_text
from copilot.domain.records import LabelChange, TicketRecord, TicketStatus
from copilot.domain.taxonomy import Taxonomy, UnknownLabel
from copilot.domain.text import control_character
from copilot.domain.tickets import TicketTooLong
from copilot.pipeline import correct_labels, intake, reveal_text, suggest_for
from copilot.services import Services
from copilot.store.tickets import QueueFilter

router = APIRouter(prefix="/console", include_in_schema=False)
Svc = Annotated[Services, Depends(services)]
Meter = Annotated[Metrics, Depends(metrics)]
Reader = Annotated[Caller, Depends(allow(Role.SPECIALIST, Role.QA, Role.ADMIN))]
Worker = Annotated[Caller, Depends(allow(Role.SPECIALIST, Role.ADMIN))]
CitationReader = Annotated[Caller, Depends(allow(Role.SPECIALIST, Role.SOP_WRITER, Role.QA, Role.ADMIN))]
WORKERS = (Role.SPECIALIST, Role.ADMIN)

QUEUE_LIMIT = 200
ANY_STATUS = "any"  # the status filter's "every status"; no status given means open tickets

# What a redirect after a write says, by the code in its address.
MESSAGES = {
    "created": "Ticket received, labelled and drafted.",
    "exists": "A ticket with that helpdesk id was received before: this is it.",
    "labels": "Labels corrected: they are in force now.",
    "unchanged": "No label changed.",
    "drafted": "A new draft was made from the labels in force.",
    "approved": "Draft approved.",
    "edited": "Edit saved: the edited text is the one sent.",
    "rejected": "Draft rejected.",
}
DECIDED = {DecisionKind.APPROVE: "approved", DecisionKind.EDIT: "edited", DecisionKind.REJECT: "rejected"}


def _message(code: str | None) -> str | None:
    return MESSAGES.get(code or "")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _problem(exc: ValidationError) -> str:
    """The first validation problem as a sentence naming the field."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    text = str(first["msg"]).removeprefix("Value error, ")
    return f"{field}: {text}" if field else text


# --- The queue -------------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def queue_page(
    request: Request,
    svc: Svc,
    caller: Reader,
    lob: str = "",
    queue: str = "",
    status: str = "",
    language: str = "",
    risk_flag: str = "",
    message: str | None = None,
) -> HTMLResponse:
    """Open tickets (or those of the chosen status), most urgent first: priority, then SLA due time."""
    taxonomy = svc.taxonomy
    options = _filter_options(taxonomy)
    chosen = {"lob": lob, "queue": queue, "status": status, "language": language, "risk_flag": risk_flag}
    unknown = [
        f"{name.replace('_', ' ')} {value!r}" for name, value in chosen.items() if value and value not in options[name]
    ]
    if unknown:
        return render(
            request,
            "queue.html",
            caller,
            422,
            **_queue_context(taxonomy, options, {}, []),
            error=f"Unknown filter value: {', '.join(unknown)}. Choose from the lists.",
        )
    where = QueueFilter(
        lob=lob or None,
        queue=queue or None,
        status=None if status == ANY_STATUS else TicketStatus(status or TicketStatus.OPEN),
        language=language or None,
        risk_flag=risk_flag or None,
    )
    records = svc.tickets.queue(where, limit=QUEUE_LIMIT)
    rows = [(r, _shown_text(r, taxonomy)) for r in records]
    return render(
        request, "queue.html", caller, **_queue_context(taxonomy, options, chosen, rows), message=_message(message)
    )


def _filter_options(taxonomy: Taxonomy) -> dict[str, list[str]]:
    return {
        "lob": [*taxonomy.lobs, taxonomy.out_of_scope.label],
        "queue": sorted({spec.queue for spec in taxonomy.risk_flags.values() if spec.queue}),
        "status": [*(s.value for s in TicketStatus), ANY_STATUS],
        "language": list(taxonomy.languages),
        "risk_flag": list(taxonomy.risk_flags),
    }


def _queue_context(
    taxonomy: Taxonomy, options: dict[str, list[str]], chosen: dict[str, str], rows: list[tuple[TicketRecord, str]]
) -> dict[str, Any]:
    return {
        "options": options,
        "chosen": chosen,
        "rows": rows,
        "limit": QUEUE_LIMIT,
        "now": dt.datetime.now(dt.UTC),
        "escalating": set(taxonomy.escalating_flags),
    }


def _shown_text(record: TicketRecord, taxonomy: Taxonomy) -> str:
    """The text as anyone may read it before a reveal: masked when triage flagged a secret in it."""
    return masked_text(record.text, record.labels.risk_flags, taxonomy) or record.text


# --- A new ticket ----------------------------------------------------------------------------------------


@router.get("/tickets/new", response_class=HTMLResponse)
def new_ticket_page(request: Request, caller: Worker) -> HTMLResponse:
    return render(request, "new_ticket.html", caller, form={})


@router.post("/tickets", response_model=None)
def create_ticket(
    request: Request,
    svc: Svc,
    meter: Meter,
    caller: Worker,
    text: Annotated[str, Form()] = "",
    creator_handle: Annotated[str, Form()] = "",
    helpdesk_id: Annotated[str, Form()] = "",
) -> Response:
    """Keep the ticket with its labels (intake), draft a reply from them, and open its page. A helpdesk id
    received before opens that ticket instead, drafting nothing."""
    form = {"text": text, "creator_handle": creator_handle, "helpdesk_id": helpdesk_id}
    helpdesk = helpdesk_id.strip() or None

    def refused(problem: str) -> HTMLResponse:
        return render(request, "new_ticket.html", caller, 422, form=form, error=problem)

    if helpdesk is not None and len(helpdesk) > 100:
        return refused("helpdesk id: at most 100 characters")
    if helpdesk is not None and (problem := control_character(helpdesk, one_line=True)):
        return refused(f"helpdesk id: {problem}")
    try:
        ticket = Ticket(text=text, creator_handle=creator_handle.strip() or None)
    except ValidationError as exc:
        return refused(_problem(exc))
    if helpdesk is not None and (kept := svc.tickets.find(ticket.id, helpdesk_id=helpdesk)) is not None:
        return RedirectResponse(f"/console/tickets/{kept.id}?message=exists", status_code=303)
    svc.require_index()  # 503 before anything is kept, rather than a ticket whose draft cannot be made
    try:
        record = intake(ticket, services=svc, by=caller.actor, helpdesk_id=helpdesk)
    except TicketTooLong as exc:
        return refused(_sentence(str(exc)))
    meter.triaged([record.labels])
    meter.suggested(suggest_for(record, services=svc, by=caller.actor), services=svc)
    return RedirectResponse(f"/console/tickets/{record.id}?message=created", status_code=303)


# --- A ticket --------------------------------------------------------------------------------------------


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, ticket_id: str, svc: Svc, caller: Reader, message: str | None = None) -> HTMLResponse:
    return _ticket_page(request, svc, caller, ticket_id, message=_message(message))


def _ticket_page(
    request: Request,
    svc: Services,
    caller: Caller,
    ticket_id: str,
    status_code: int = 200,
    *,
    revealed: bool = False,
    **context: Any,
) -> HTMLResponse:
    """The ticket page; raises TicketNotFound (the app's 404 page). `context` adds an error or message, and
    which decision form to show open."""
    record = svc.tickets.get(ticket_id)
    taxonomy = svc.taxonomy
    drafts = svc.store.of_ticket(ticket_id)
    draft = drafts[-1] if drafts else None
    order = [r.id for r in svc.tickets.queue(QueueFilter(), limit=QUEUE_LIMIT)]
    at = order.index(ticket_id) if ticket_id in order else -1
    corrections = [c for _, c in svc.tickets.corrections(ticket_id)]
    transitions = svc.store.transitions(draft.id) if draft else []
    figures = draft_figures(draft, svc.library) if draft else []
    return render(
        request,
        "ticket.html",
        caller,
        status_code,
        record=record,
        labels=record.labels,
        masked=None if revealed else masked_text(record.text, record.labels.risk_flags, taxonomy),
        revealed=revealed,
        taxonomy=taxonomy,
        escalating=set(taxonomy.escalating_flags),
        may_work=caller.actor.may(*WORKERS),
        now=dt.datetime.now(dt.UTC),
        last_correction=corrections[-1] if corrections else None,
        previous_id=order[at - 1] if at > 0 else None,
        next_id=order[at + 1] if 0 <= at < len(order) - 1 else (order[0] if at < 0 and order else None),
        draft=draft,
        figures=figures,
        reply=marked_reply(draft.reply, figures) if draft and draft.reply else None,
        sent=next((marked_reply(t.final_text, figures) for t in transitions if t.final_text and t.diff), None),
        citations=citation_links(draft) if draft else [],
        history=[(t, diff_lines(t.diff)) for t in transitions],
        earlier=list(reversed(drafts[:-1])),
        reasons=list(RejectReason),
        pending=draft is not None and draft.status is DraftStatus.PENDING,
        **context,
    )


@router.post("/tickets/{ticket_id}/reveal", response_class=HTMLResponse)
def reveal(request: Request, ticket_id: str, svc: Svc, caller: Worker) -> HTMLResponse:
    """The ticket's full text, the reveal written to the audit log (as POST /v1/tickets/{id}/reveal does).
    htmx swaps the text in place; without JavaScript the whole page comes back revealed."""
    record = reveal_text(ticket_id, services=svc, by=caller.actor)
    if request.headers.get("HX-Request"):
        return render(request, "_revealed.html", caller, record=record)
    return _ticket_page(request, svc, caller, ticket_id, revealed=True)


@router.post("/tickets/{ticket_id}/labels", response_model=None)
def correct(
    request: Request,
    ticket_id: str,
    svc: Svc,
    caller: Worker,
    intent: Annotated[str, Form()] = "",
    risk_flags: Annotated[list[str] | None, Form()] = None,
    priority: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
) -> Response:
    """Put the form's labels in force. The form shows every label, so only what differs from the labels in
    force is a change: a new intent then brings its own priority by the taxonomy's rules unless the priority
    was changed too. A label the taxonomy does not hold gets the page back with the problem, nothing kept."""
    old = svc.tickets.get(ticket_id).labels
    # The form always sends an empty risk_flags entry, so that ticking no box means "no flags" while a client
    # that sends no risk_flags at all leaves them as they are.
    flags = None if risk_flags is None else sorted({f for f in risk_flags if f})
    changed = {
        "intent": intent if intent and intent != old.intent else None,
        "risk_flags": flags if flags is not None and set(flags) != set(old.risk_flags) else None,
        "priority": priority if priority and priority != old.priority else None,
        "language": language if language and language != old.language else None,
    }
    if all(value is None for value in changed.values()):
        return RedirectResponse(f"/console/tickets/{ticket_id}?message=unchanged", status_code=303)
    try:
        change = LabelChange.model_validate(changed)
    except ValidationError as exc:
        return _ticket_page(request, svc, caller, ticket_id, 422, error=_problem(exc), open_box="labels")
    try:
        correct_labels(ticket_id, change, services=svc, by=caller.actor)
    except UnknownLabel as exc:
        return _ticket_page(request, svc, caller, ticket_id, 422, error=_sentence(str(exc)), open_box="labels")
    return RedirectResponse(f"/console/tickets/{ticket_id}?message=labels", status_code=303)


@router.post("/tickets/{ticket_id}/drafts")
def draft_again(ticket_id: str, svc: Svc, meter: Meter, caller: Worker) -> RedirectResponse:
    """A new pending draft from the labels in force (after a correction, say); earlier drafts are kept."""
    record = svc.tickets.get(ticket_id)
    svc.require_index()
    meter.suggested(suggest_for(record, services=svc, by=caller.actor), services=svc)
    return RedirectResponse(f"/console/tickets/{ticket_id}?message=drafted#draft", status_code=303)


# --- Deciding a draft ------------------------------------------------------------------------------------


@router.post("/drafts/{draft_id}/decision", response_model=None)
def decide(
    request: Request,
    draft_id: str,
    svc: Svc,
    meter: Meter,
    caller: Worker,
    kind: Annotated[str, Form()] = "",
    final_text: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Approve, edit or reject the draft as the signed-in person. A draft decided before is the app's 409 page
    (AlreadyDecided); fields that do not fit the kind get the ticket page back with the problem, 422."""
    draft = svc.store.get(draft_id)  # DraftNotFound: the app's 404 page
    try:
        fields = DecisionFields.model_validate(
            {"kind": kind, "final_text": final_text or None, "reason": reason or None, "note": note.strip() or None}
        )
    except ValidationError as exc:
        box = {DecisionKind.EDIT.value: "edit", DecisionKind.REJECT.value: "reject"}.get(kind)
        return _ticket_page(
            request, svc, caller, draft.ticket_id, 422, error=_problem(exc), open_box=box, edit_text=final_text
        )
    decision = Decision(actor=caller.actor.name, **fields.model_dump())
    svc.store.decide(draft_id, decision, by=caller.actor)
    meter.decided(decision)
    return RedirectResponse(f"/console/tickets/{draft.ticket_id}?message={DECIDED[decision.kind]}", status_code=303)


@router.post("/drafts/{draft_id}/diff", response_class=HTMLResponse)
def preview_diff(
    request: Request, draft_id: str, svc: Svc, caller: Worker, final_text: Annotated[str, Form()] = ""
) -> HTMLResponse:
    """The edit box's live preview: the text as typed against the draft, as the decision will record it."""
    draft = svc.store.get(draft_id)
    diff = edit_diff(draft.reply or "", final_text) if final_text.strip() else ""
    return render(request, "_diff.html", caller, lines=diff_lines(diff), empty=not final_text.strip())


# --- The citation view -----------------------------------------------------------------------------------


@router.get("/sop/{doc_id}/versions/{version}", response_class=HTMLResponse)
def passage_page(
    request: Request, doc_id: str, version: str, svc: Svc, caller: CitationReader, section: str = ""
) -> HTMLResponse:
    """A document as it was published at a version (the kept text, not today's file), each section anchored
    for citations, the cited one highlighted; says so when the library holds another version now."""
    published = svc.sop_versions.get(doc_id, version)  # VersionNotFound: the app's 404 page
    page = published_page(doc_id, version, published.text)
    current = svc.library.documents.get(doc_id)
    return render(
        request,
        "passage.html",
        caller,
        doc_id=doc_id,
        published=published,
        page=page,
        cited=section if section in page.anchors else None,
        current=current,
    )
