"""Drafts, the decisions agents take on them, and the transitions the store keeps."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from copilot.domain.sop import Citation
from copilot.domain.text import CleanLine, CleanText
from copilot.domain.tickets import Triage


def new_draft_id() -> str:
    return f"DRF-{uuid.uuid4().hex[:12]}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DraftAction(StrEnum):
    """What the copilot proposes: a reply, a clarifying question, or an escalation."""

    REPLY = "reply"
    CLARIFY = "clarify"
    ESCALATE = "escalate"


class DraftStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EDITED = "edited"
    REJECTED = "rejected"


class DecisionKind(StrEnum):
    APPROVE = "approve"
    EDIT = "edit"
    REJECT = "reject"


class RejectReason(StrEnum):
    WRONG_POLICY = "wrong_policy"
    WRONG_INTENT = "wrong_intent"
    TONE = "tone"
    INCOMPLETE = "incomplete"
    UNSAFE = "unsafe"
    OTHER = "other"


class ProblemKind(StrEnum):
    """What verification found wrong with a draft."""

    UNKNOWN_CITATION = "unknown_citation"  # cites a passage that is not among its sources
    STALE_CITATION = "stale_citation"  # the cited passage's text is not the text of the version it names
    UNGROUNDED_FIGURE = "ungrounded_figure"  # states a number no cited passage and not the ticket states
    NEVER_SAY = "never_say"  # says a phrase on the never-say list of a cited SOP
    SECRET_REPEATED = "secret_repeated"  # repeats a secret or card number from the ticket
    LEGACY = "legacy"  # stored before problems were typed: only the sentence is known


class Problem(BaseModel):
    """One problem verification found in a draft: its kind, the sentence an agent reads, and what is at fault."""

    model_config = ConfigDict(frozen=True)

    kind: ProblemKind
    detail: str = Field(description="The problem as a sentence an agent can act on.")
    citation: str | None = Field(None, description="The chunk id or document id at fault, if any.")
    figure: str | None = Field(None, description="The number no source states, for an ungrounded figure.")


class Draft(BaseModel):
    """A suggested reply (or escalation, or clarifying question) waiting for a human decision."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_draft_id)
    ticket_id: str
    ticket_text: str
    triage: Triage
    action: DraftAction
    reply: str | None = Field(
        description="Text for the creator: the reply, the question, or the holding reply; None when the SOP has none."
    )
    template: str | None = Field(None, description="The SOP reply template the text started from, if any.")
    language: str
    agent_steps: list[str] = Field(default_factory=list, description="What the agent does, from the SOP.")
    citations: list[Citation] = []
    warnings: list[str] = Field(default_factory=list, description="What the agent must know before sending.")
    problems: list[Problem] = Field(
        default_factory=list, description="What verification found wrong with the text; empty when it passed."
    )
    queue: str | None = None
    writer: str
    model_version: str
    status: DraftStatus = DraftStatus.PENDING
    created_at: dt.datetime = Field(default_factory=utcnow)

    @field_validator("problems", mode="before")
    @classmethod
    def _legacy_problems(cls, value: object) -> object:
        """Drafts stored before problems were typed hold plain sentences: each becomes a legacy Problem."""
        if isinstance(value, list):
            return [Problem(kind=ProblemKind.LEGACY, detail=p) if isinstance(p, str) else p for p in value]
        return value

    @property
    def verified(self) -> bool:
        return not self.problems

    @property
    def sop_versions(self) -> dict[str, str]:
        return {c.doc_id: c.doc_version for c in self.citations}


class DecisionFields(BaseModel):
    """What an agent decides on a pending draft, without who: the API takes that from the signed-in caller."""

    model_config = ConfigDict(frozen=True)

    kind: DecisionKind
    final_text: CleanText | None = Field(None, description="Required for edit: the text as the agent sends it.")
    reason: RejectReason | None = Field(None, description="Required for reject.")
    note: CleanText | None = Field(None, max_length=5000)

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> DecisionFields:
        if self.kind is DecisionKind.EDIT and not (self.final_text and self.final_text.strip()):
            raise ValueError("an edit needs final_text: the reply as the agent will send it")
        if self.kind is DecisionKind.REJECT and self.reason is None:
            raise ValueError(f"a rejection needs a reason, one of: {', '.join(r.value for r in RejectReason)}")
        if self.kind is not DecisionKind.REJECT and self.reason is not None:
            raise ValueError(f"reason is only for reject, got it with {self.kind.value}")
        return self


class Decision(DecisionFields):
    """An agent's decision on a pending draft, with who took it."""

    actor: CleanLine = Field(min_length=1, max_length=200)


class Transition(BaseModel):
    """One recorded change of a draft's status: who, when, why, and what the draft rested on."""

    model_config = ConfigDict(frozen=True)

    draft_id: str
    from_status: DraftStatus
    to_status: DraftStatus
    actor: str
    at: dt.datetime
    reason: RejectReason | None = None
    note: str | None = None
    final_text: str | None = None
    diff: str | None = None
    sop_versions: dict[str, str] = {}
    model_version: str
