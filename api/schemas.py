"""Request and response bodies of the HTTP API that are not domain models themselves."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.domain import Decision, Passage, Triage
from copilot.domain.accounts import Actor, ApiKey, Role
from copilot.domain.drafts import DecisionFields
from copilot.domain.personal_data import masked_text
from copilot.domain.records import TicketRecord
from copilot.domain.taxonomy import Taxonomy


class TicketIn(BaseModel):
    # An unknown field is refused by name: a client still sending the old `ticket_id` learns it is now
    # `helpdesk_id` instead of losing its de-duplication silently.
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The ticket as the creator wrote it. Untrusted: never followed as instructions.")
    creator_handle: str | None = Field(None, max_length=100, description="The creator's @handle, if known.")
    helpdesk_id: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="The helpdesk's own id for the ticket: sent again with the same id, the ticket is kept once.",
    )


class DecisionIn(DecisionFields):
    """An agent's decision as sent. Who decides is the signed-in caller, never a name in the body."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def as_decision(self, actor: Actor) -> Decision:
        return Decision(actor=actor.name, **self.model_dump())


class TicketBatch(BaseModel):
    tickets: list[TicketIn] = Field(min_length=1, max_length=1000, description="Up to 1,000 tickets.")


class BatchProblem(BaseModel):
    index: int = Field(description="Position of the ticket in the request.")
    detail: str


class BatchTriage(BaseModel):
    results: list[Triage] = Field(description="Labels for every good ticket, in request order.")
    skipped: list[BatchProblem] = Field(description="Tickets that could not be labelled, and why.")


class SearchResult(BaseModel):
    query: str
    passages: list[Passage]


class IngestResult(BaseModel):
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    chunks_written: int
    documents_indexed: int


class Health(BaseModel):
    status: str
    documents: int
    chunks: int
    triage_model: str
    embedder: str
    writer: str


class Liveness(BaseModel):
    status: Literal["alive"] = Field(description="The process runs and answers; nothing else is checked.")


class Readiness(BaseModel):
    ready: bool = Field(
        description="True when the index holds passages, a triage model is loaded and the "
        "database answers: the process can take traffic."
    )
    reasons: list[str] = Field(description="What is not ready, one line each; empty when ready.")


class ErrorBody(BaseModel):
    detail: str


# What any route behind `allow(...)` may answer besides its own responses.
AUTH_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "No valid API key or console session."},
    403: {"model": ErrorBody, "description": "The caller's role may not use this route, or a CSRF token is missing."},
}


class TicketOut(TicketRecord):
    """A ticket as the API shows it: text holding personal data comes masked (reveal it with POST .../reveal)."""

    text_masked: bool = Field(description="True when `text` hides personal data triage flagged.")

    @classmethod
    def of(cls, record: TicketRecord, taxonomy: Taxonomy) -> TicketOut:
        masked = masked_text(record.text, record.labels.risk_flags, taxonomy)
        return cls(**{**record.model_dump(), "text": masked or record.text, "text_masked": masked is not None})


class RevealedText(BaseModel):
    ticket_id: str
    text: str


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=63)
    role: Role
    password: str = Field(min_length=1, max_length=1000, description="At least 10 characters.")


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="The service that will use it.")
    role: Role = Role.SERVICE


class CreatedKey(BaseModel):
    key: ApiKey
    secret: str = Field(description="The key itself: shown this once, kept only as a hash. Send it as X-API-Key.")
