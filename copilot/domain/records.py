"""Tickets as records: what intake received, the labels it gave, the corrections people made, and the SLA clock.

The model's labels are never overwritten: a specialist's correction is kept beside them (who, when, old,
new), and the ticket's current labels are the latest correction, or the model's when there is none.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from copilot.domain.accounts import Actor
from copilot.domain.drafts import DraftStatus
from copilot.domain.taxonomy import Taxonomy, UnknownLabel
from copilot.domain.text import CleanLine
from copilot.domain.tickets import Ticket, Triage


class TicketStatus(StrEnum):
    OPEN = "open"  # nothing sent yet: no draft, a pending one, or only rejected ones
    ANSWERED = "answered"  # a reply or question was approved (or edited) and sent
    ESCALATED = "escalated"  # an escalation was approved: the ticket is with its queue


class TicketRecord(BaseModel):
    """One ticket as intake stored it, with its labels and where it stands."""

    model_config = ConfigDict(frozen=True)

    id: str
    helpdesk_id: str | None = Field(
        None, description="The helpdesk's own id: a ticket sent again with it is kept once."
    )
    text: str
    creator_handle: str | None = None
    received_at: dt.datetime
    model_labels: Triage = Field(description="What triage said, as it said it.")
    labels: Triage = Field(description="The labels in force: the latest correction, or the model's.")
    taxonomy_version: str
    sla_due_at: dt.datetime = Field(description="received_at plus the sla_hours of the current priority.")
    status: TicketStatus = TicketStatus.OPEN
    corrected: bool = False
    latest_draft_id: str | None = None
    latest_draft_status: DraftStatus | None = None

    @property
    def ticket(self) -> Ticket:
        return Ticket(id=self.id, text=self.text, creator_handle=self.creator_handle)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def model_version(self) -> str:
        """The triage model that labelled the ticket on arrival."""
        return self.model_labels.model_version


def sla_due(received_at: dt.datetime, priority: str, taxonomy: Taxonomy) -> dt.datetime:
    return received_at + dt.timedelta(hours=taxonomy.priorities[priority].sla_hours)


class LabelChange(BaseModel):
    """What a specialist says the labels should be. Unset fields keep their value; LOB follows the intent, and
    tier and queue follow the intent and flags by the taxonomy's rules."""

    # The schema says what _something checks: at least one field set to a value, not null.
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in ("intent", "risk_flags", "priority", "language")
            ]
        },
    )

    intent: CleanLine | None = Field(None, max_length=100)
    risk_flags: list[CleanLine] | None = Field(None, max_length=50)
    priority: CleanLine | None = Field(None, max_length=20)
    language: CleanLine | None = Field(None, max_length=20)

    @model_validator(mode="after")
    def _something(self) -> LabelChange:
        if self.intent is None and self.risk_flags is None and self.priority is None and self.language is None:
            raise ValueError("a correction changes at least one of intent, risk_flags, priority, language")
        return self

    def check(self, taxonomy: Taxonomy) -> None:
        """Raises UnknownLabel naming the first label the taxonomy does not hold, and the valid ones."""
        if self.intent is not None and self.intent not in taxonomy.labels:
            raise UnknownLabel(f"unknown intent {self.intent!r}; valid: {', '.join(taxonomy.labels)}")
        for flag in self.risk_flags or []:
            if flag not in taxonomy.risk_flags:
                raise UnknownLabel(f"unknown risk flag {flag!r}; valid: {', '.join(taxonomy.risk_flags)}")
        if self.priority is not None and self.priority not in taxonomy.priorities:
            raise UnknownLabel(f"unknown priority {self.priority!r}; valid: {', '.join(taxonomy.priorities)}")
        if self.language is not None and self.language not in taxonomy.languages:
            raise UnknownLabel(f"unknown language {self.language!r}; valid: {', '.join(taxonomy.languages)}")


class LabelCorrection(BaseModel):
    """One correction as kept: the labels before and after, who made it and when."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    actor: str
    at: dt.datetime
    old: Triage
    new: Triage


class AuditAction(StrEnum):
    """Every write the copilot records, and the reads of personal data it must account for."""

    TICKET_STORED = "ticket.stored"
    LABELS_CORRECTED = "ticket.labels_corrected"
    TICKET_TEXT_REVEALED = "ticket.text_revealed"
    DRAFT_CREATED = "draft.created"
    DRAFT_DECIDED = "draft.decided"
    KB_INGESTED = "kb.ingested"
    TEXTS_PURGED = "records.texts_purged"  # detail: the cutoff and how many texts of each kind were emptied
    SOP_REVISION_SAVED = "sop.revision_saved"
    SOP_IMPACT_RECORDED = "sop.impact_recorded"
    SOP_PUBLISHED = "sop.published"
    SOP_DISCARDED = "sop.discarded"
    SOP_ROLLED_BACK = "sop.rolled_back"
    SOP_RETIRED = "sop.retired"
    SOP_SUGGESTION_ACCEPTED = "sop.suggestion_accepted"  # target: the suggestion's fingerprint
    SOP_SUGGESTION_DISMISSED = "sop.suggestion_dismissed"  # target: the suggestion's fingerprint
    USER_CREATED = "user.created"
    USER_DISABLED = "user.disabled"
    USER_PASSWORD_SET = "user.password_set"
    KEY_CREATED = "key.created"
    KEY_REVOKED = "key.revoked"
    SIGNED_IN = "auth.signed_in"
    SIGN_IN_FAILED = "auth.sign_in_failed"
    SIGNED_OUT = "auth.signed_out"


class AuditEntry(BaseModel):
    """One line of the audit log. `detail` holds labels, ids and counts, never ticket text or secrets."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    at: dt.datetime
    actor: str
    actor_kind: str
    role: str | None = None
    action: AuditAction
    target: str | None = Field(None, description="What was written: a ticket, draft, user or key id.")
    detail: dict[str, object] = {}
    address: str | None = None
    request_id: str | None = None

    @classmethod
    def of(
        cls, actor: Actor, action: AuditAction, target: str | None, at: dt.datetime, /, **detail: object
    ) -> AuditEntry:
        return cls(
            at=at,
            actor=actor.name,
            actor_kind=actor.kind.value,
            role=actor.role.value if actor.role else None,
            action=action,
            target=target,
            detail=detail,
            address=actor.address,
            request_id=actor.request_id,
        )
