"""Request-scoped access to the services bundle the app factory built."""

from __future__ import annotations

from fastapi import HTTPException, Request

from api.schemas import TicketIn
from copilot.domain import Ticket
from copilot.services import Services


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def to_ticket(body: TicketIn, svc: Services) -> Ticket:
    """A domain ticket from the request; 422 for an empty text, 413 for one over the size limit."""
    limit = svc.settings.max_ticket_chars
    if len(body.text) > limit:
        raise HTTPException(413, f"ticket text is {len(body.text)} characters; the limit is {limit}")
    if not body.text.strip():
        raise HTTPException(422, "ticket text is empty")
    fields = {"text": body.text, "creator_handle": body.creator_handle}
    return Ticket(**fields, **({"id": body.ticket_id} if body.ticket_id else {}))
