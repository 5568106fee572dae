"""Request-scoped access to what the app factory built: the services bundle and the metrics."""

from __future__ import annotations

from fastapi import HTTPException, Request
from pydantic import ValidationError

from api.metrics import Metrics
from api.schemas import TicketIn
from copilot.domain import Ticket
from copilot.services import Services


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def to_ticket(body: TicketIn) -> Ticket:
    """A domain ticket from the request; 422 naming the problem (an empty text, say)."""
    try:
        return Ticket(text=body.text, creator_handle=body.creator_handle)
    except ValidationError as exc:
        raise HTTPException(422, exc.errors()[0]["msg"].removeprefix("Value error, ")) from exc


def metrics(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]
