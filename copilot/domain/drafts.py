"""Drafts, the decisions agents take on them, and the transitions the store keeps."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from copilot.domain.sop import Citation
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
    problems: list[str] = Field(
        default_factory=list, description="What verification found wrong with the text; empty when it passed."
    )
    queue: str | None = None
    writer: str
    model_version: str
    status: DraftStatus = DraftStatus.PENDING
    created_at: dt.datetime = Field(default_factory=utcnow)

    @property
    def verified(self) -> bool:
        return not self.problems

    @property
    def sop_versions(self) -> dict[str, str]:
        return {c.doc_id: c.doc_version for c in self.citations}


class Decision(BaseModel):
    """An agent's decision on a pending draft."""

    model_config = ConfigDict(frozen=True)

    kind: DecisionKind
    actor: str = Field(min_length=1, max_length=200)
    final_text: str | None = Field(None, description="Required for edit: the text as the agent sends it.")
    reason: RejectReason | None = Field(None, description="Required for reject.")
    note: str | None = Field(None, max_length=5000)

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Decision:
        if self.kind is DecisionKind.EDIT and not (self.final_text and self.final_text.strip()):
            raise ValueError("an edit needs final_text: the reply as the agent will send it")
        if self.kind is DecisionKind.REJECT and self.reason is None:
            raise ValueError(f"a rejection needs a reason, one of: {', '.join(r.value for r in RejectReason)}")
        if self.kind is not DecisionKind.REJECT and self.reason is not None:
            raise ValueError(f"reason is only for reject, got it with {self.kind.value}")
        return self


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
