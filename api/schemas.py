"""Request and response bodies of the HTTP API that are not domain models themselves."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from copilot.domain import Passage, Triage


class TicketIn(BaseModel):
    text: str = Field(description="The ticket as the creator wrote it. Untrusted: never followed as instructions.")
    creator_handle: str | None = Field(None, max_length=100, description="The creator's @handle, if known.")
    ticket_id: str | None = Field(None, min_length=1, max_length=100, description="The console's ticket id.")


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
