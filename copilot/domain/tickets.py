"""Tickets as they arrive and the labels triage gives them."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.domain.text import CleanLine, CleanText

Sentiment = Literal["negative", "neutral", "positive"]  # the ticket's tone (copilot/triage/sentiment.py)


def new_ticket_id() -> str:
    return f"TKT-{uuid.uuid4().hex[:12]}"


class Ticket(BaseModel):
    """An incoming creator message. The text is untrusted data, never instructions."""

    model_config = ConfigDict(frozen=True)

    id: CleanLine = Field(default_factory=new_ticket_id, min_length=1, max_length=100)
    text: CleanText = Field(min_length=1)
    creator_handle: CleanLine | None = Field(None, max_length=100, description="@handle of the creator, if known.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("ticket text is empty")
        return text


class TicketTooLong(ValueError):
    """A ticket over the configured size; refused before any work is done or anything is stored."""


def admit(ticket: Ticket, *, max_chars: int) -> Ticket:
    """The ticket, if it is within the size limit; raises TicketTooLong naming its length and the limit."""
    if len(ticket.text) > max_chars:
        raise TicketTooLong(f"ticket text is {len(ticket.text)} characters; the limit is {max_chars}")
    return ticket


class BatchTooLarge(ValueError):
    """A batch over the configured count or total size: refused whole, before any ticket in it is triaged."""


def admit_batch(lengths: list[int], *, max_tickets: int, max_chars: int) -> None:
    """Raises BatchTooLarge naming the limit a batch of tickets with these text lengths passes, if any: the two
    limits together bound the work of one request."""
    if len(lengths) > max_tickets:
        raise BatchTooLarge(f"the batch has {len(lengths)} tickets; the limit is {max_tickets} (max_batch_tickets)")
    if (total := sum(lengths)) > max_chars:
        raise BatchTooLarge(
            f"the batch's tickets have {total} characters together; the limit is {max_chars} (max_batch_chars)"
        )


class Routing(StrEnum):
    """What intake does with the labels, from the classifier's confidence."""

    AUTO = "auto"  # applied as they are
    SUGGEST = "suggest"  # shown to an agent to confirm
    HUMAN = "human"  # abstention: the ticket goes to the human triage queue


class Triage(BaseModel):
    """Labels for one ticket. `intent` is the classifier's best guess even when routing is HUMAN."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    lob: str
    intent: str
    confidence: float = Field(ge=0, le=1)
    routing: Routing
    priority: str
    tier: str
    risk_flags: list[str] = []
    conditions: list[str] = []
    language: str
    sentiment: Sentiment = "neutral"
    sentiment_score: float = Field(0.0, ge=-1, le=1, description="VADER compound score, -1 to 1.")
    escalate: bool = False
    queue: str | None = None
    alternatives: list[tuple[str, float]] = Field(default_factory=list, description="Runner-up intents.")
    needs_detail: bool = Field(False, description="The ticket says too little to answer: ask before replying.")
    detail_score: float | None = Field(
        None, ge=0, le=1, description="The needs-detail probability; None: the model has no needs-detail head."
    )
    model_version: str
