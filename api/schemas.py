"""Request and response bodies of the HTTP API that are not domain models themselves."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.domain import Decision, Passage, Triage
from copilot.domain.accounts import Actor, ApiKey, Role
from copilot.domain.drafts import RejectReason
from copilot.domain.personal_data import masked_text
from copilot.domain.records import TicketRecord
from copilot.domain.revisions import SopRevision
from copilot.domain.taxonomy import Taxonomy
from copilot.domain.text import LINE_SAYING_SOMETHING, TEXT_SAYING_SOMETHING, CleanLine, CleanText, NotBlank
from copilot.store.accounts import MIN_PASSWORD_CHARS, USER_NAME
from copilot.workbench.revisions import DocumentSummary
from copilot.workbench.suggestions import Suggestion
from knowledge_base.conflicts import Conflict


class TicketIn(BaseModel):
    # An unknown field is refused by name: a client still sending the old `ticket_id` learns it is now
    # `helpdesk_id` instead of losing its de-duplication silently.
    model_config = ConfigDict(extra="forbid")

    # Blank text and text over max_ticket_chars are refused by the route (422 and 413, naming the problem); the
    # schema says the first so that a client's validator catches it too.
    text: CleanText = Field(
        description="The ticket as the creator wrote it, at most max_ticket_chars (20,000 by default) characters. "
        "Untrusted: never followed as instructions.",
        json_schema_extra={"minLength": 1, "pattern": TEXT_SAYING_SOMETHING},
    )
    creator_handle: CleanLine | None = Field(None, max_length=100, description="The creator's @handle, if known.")
    helpdesk_id: CleanLine | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="The helpdesk's own id for the ticket: sent again with the same id, the ticket is kept once.",
    )


class _DecisionIn(BaseModel):
    """An agent's decision as sent. Who decides is the signed-in caller, never a name in the body. One model per
    kind, so that the schema says which fields each kind needs (DecisionFields checks the same when it is built)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    note: CleanText | None = Field(None, max_length=5000)

    def as_decision(self, actor: Actor) -> Decision:
        return Decision(actor=actor.name, **self.model_dump())


class ApproveIn(_DecisionIn):
    """Send the draft's reply as it is."""

    kind: Literal["approve"]  # DecisionKind's values, as strings: a refused kind is then named plainly


class EditIn(_DecisionIn):
    """Send the reply as the agent edited it."""

    kind: Literal["edit"]
    final_text: Annotated[CleanText, NotBlank] = Field(
        description="The text as the agent sends it.", json_schema_extra={"pattern": TEXT_SAYING_SOMETHING}
    )


class RejectIn(_DecisionIn):
    """Send nothing; the reason is kept for QA."""

    kind: Literal["reject"]
    reason: RejectReason


DecisionIn = Annotated[ApproveIn | EditIn | RejectIn, Field(discriminator="kind")]


class BatchTicket(TicketIn):
    text: CleanText = Field(
        description="The ticket as the creator wrote it. A blank or too long text is listed in `skipped`, not refused."
    )


class TicketBatch(BaseModel):
    # The count is checked by the route against the max_batch_tickets setting (413, as for too many characters)
    tickets: list[BatchTicket] = Field(
        min_length=1,
        description="Up to max_batch_tickets tickets (1,000 by default) of max_batch_chars characters in all "
        "(200,000 by default); a larger batch is refused with 413: send a larger one as a job.",
    )


class BatchProblem(BaseModel):
    index: int = Field(description="Position of the ticket in the request.")
    detail: str


class BatchTriage(BaseModel):
    results: list[Triage] = Field(description="Labels for every good ticket, in request order.")
    skipped: list[BatchProblem] = Field(description="Tickets that could not be labelled, and why.")


class SearchResult(BaseModel):
    query: str
    passages: list[Passage]


class ConflictReport(BaseModel):
    errors: int = Field(description="Conflicts that stop the next ingest.")
    warnings: int
    conflicts: list[Conflict] = Field(description="Errors first, each naming the files involved.")


class AcceptedSuggestion(BaseModel):
    suggestion: Suggestion
    revision_id: int = Field(description="The draft revision made from it: preview its impact, then publish it.")


class IngestResult(BaseModel):
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    chunks_written: int
    documents_indexed: int
    warnings: list[Conflict] = Field(
        default_factory=list, description="Conflicts between documents that did not stop the ingest."
    )


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


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query, path or header, then the field's path in it.")
    msg: str
    type: str = Field(description="The kind of problem, such as missing or string_too_short.")


class ErrorBody(BaseModel):
    """Every error the API answers, 4xx or 5xx, has this shape: `detail` says what is wrong in a sentence; a
    request that does not fit the schema also lists each problem in `errors`."""

    detail: str
    errors: list[FieldProblem] | None = Field(None, description="Each field at fault, when the request is invalid.")


# What any route may answer to a request refused before the route runs (the app declares them for every route).
REQUEST_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "The body is not well-formed: not JSON, or not UTF-8."},
    422: {
        "model": ErrorBody,
        "description": "A parameter or field breaks the schema (a control character in any of them, say).",
    },
    # api/body_limit.py, before the route runs (POST /v1/triage/jobs: max_upload_bytes)
    413: {"model": ErrorBody, "description": "The request body is over max_body_bytes (refused before it is read)."},
}


# What any route behind `allow(...)` may answer besides its own responses.
AUTH_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "No valid API key or console session."},
    403: {"model": ErrorBody, "description": "The caller's role may not use this route, or a CSRF token is missing."},
    429: {
        "model": ErrorBody,
        "description": "Too many requests from this caller or address; the Retry-After header says when to retry.",
        "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    },
    503: {"model": ErrorBody, "description": "The records database is unavailable just now; try again shortly."},
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

    # The account store checks both and says what is wrong (422); the schema states the same rules.
    name: CleanLine = Field(min_length=2, max_length=63, json_schema_extra={"pattern": USER_NAME.pattern})
    role: Role
    password: str = Field(
        min_length=1,
        max_length=1000,
        description=f"At least {MIN_PASSWORD_CHARS} characters.",
        json_schema_extra={"minLength": MIN_PASSWORD_CHARS},
    )


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: CleanLine = Field(
        min_length=1,
        max_length=100,
        description="The service that will use it.",
        json_schema_extra={"pattern": LINE_SAYING_SOMETHING},
    )
    role: Role = Role.SERVICE


class CreatedKey(BaseModel):
    key: ApiKey
    secret: str = Field(description="The key itself: shown this once, kept only as a hash. Send it as X-API-Key.")


# The SOP workbench (api/routes/sop_workbench.py)

SOP_TEXT_LIMIT = 500_000  # characters of one document's Markdown: the largest shipped SOP is ~15,000


class RevisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: CleanText = Field(min_length=1, max_length=SOP_TEXT_LIMIT, description="The document's whole Markdown.")


class CheckIn(RevisionIn):
    doc_id: CleanLine = Field(min_length=1, max_length=100, description="The document the text is for (its file name).")


class ProblemOut(BaseModel):
    field: str = Field(description="The front-matter field or section at fault, or 'front matter'.")
    line: int | None = Field(description="The 1-based line of the text; null when it is in another document.")
    message: str
    document: str = Field(description="The file the problem is in: this text's, or one the change breaks.")


class CheckResult(BaseModel):
    ok: bool = Field(description="True when the text can be saved as a draft revision.")
    problems: list[ProblemOut]
    warnings: list[ProblemOut] = Field(description="Not blocking a save; a version not raised blocks publishing.")


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    override_reason: CleanText | None = Field(
        None, max_length=2000, description="Why it is published without a passing impact preview; audited."
    )


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: CleanLine = Field(min_length=1, max_length=20, description="The kept version to publish again.")


class RetireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm: bool = Field(False, description="Retire even though other documents refer to it (listed on a 409).")


class KeptVersion(BaseModel):
    version: str
    published_by: str
    published_at: dt.datetime


class DocumentOut(BaseModel):
    document: DocumentSummary
    text: str = Field(description="The published file's Markdown.")
    versions: list[KeptVersion] = Field(description="Every kept version, oldest first (open one with .../versions/V).")
    revisions: list[SopRevision] = Field(description="Its draft, published and discarded revisions, newest first.")


class DiffRowOut(BaseModel):
    kind: Literal["same", "changed", "removed", "added"]
    old_line: int | None
    old: str | None
    new_line: int | None
    new: str | None


class DiffOut(BaseModel):
    revision_id: int
    doc_id: str
    published_version: str | None = Field(description="The version in force; null for a new document.")
    revision_version: str | None
    unified: str = Field(description="A unified diff against the published file; empty when nothing changed.")
    rows: list[DiffRowOut] = Field(description="The same, side by side.")


class PublishResult(BaseModel):
    revision: SopRevision
    version: str
    previous_version: str | None
    ingest: IngestResult


class ReferrerOut(BaseModel):
    doc_id: str
    how: str


class RetireResult(BaseModel):
    referrers: list[ReferrerOut] = Field(description="The active documents that still refer to it.")
    published: PublishResult


class ImpactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_id: str = Field(pattern=r"^(SOP|POL)-[A-Z0-9]+(-[A-Z0-9]+)*$", description="The document the text edits.")
    text: CleanText = Field(
        description="The document's whole Markdown as edited.", json_schema_extra={"minLength": 1}, max_length=200_000
    )


class TicketImpactOut(BaseModel):
    ticket_id: str
    source: str = Field(description="golden, safety (eval cases) or traffic (a recent decided draft).")
    language: str
    sop: list[str | None] = Field(description="[published, edited]; likewise template and action.")
    template: list[str | None]
    action: list[str | None]
    sop_changed: bool
    template_changed: bool
    action_changed: bool
    text_diff: list[str] = Field(description="The draft's text, published library against edited, unified.")
    problems_added: list[str]
    problems_removed: list[str]


class MetricDeltaOut(BaseModel):
    suite: str
    metric: str
    published: float | None
    edited: float | None
    limit: str
    tolerance: float
    regressed: bool


class ImpactOut(BaseModel):
    """What publishing the edit would change: the drafts that change, and the gated eval metrics over the replayed
    cases under both libraries; `gate_passed` is false when a metric regresses beyond its tolerance."""

    doc_id: str
    published_version: str | None
    edited_version: str
    replayed: dict[str, int]
    changed: list[TicketImpactOut]
    metrics: list[MetricDeltaOut]
    gate_passed: bool
    seconds: float
