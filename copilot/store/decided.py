"""Decided drafts as eval cases: what the copilot proposed for a ticket and what a specialist did with it.

QA exports them (`copilot export-decisions`) and adds the confirmed ones to the golden set
(`copilot eval add-decided`), so every decision can become a regression case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from copilot.domain import DraftAction, DraftStatus, RejectReason
from copilot.store.drafts import DraftStore


class DecidedCase(BaseModel):
    """One line of an export of decided drafts (JSONL)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    draft_id: str
    ticket_id: str
    text: str
    language: str
    lob: str
    intent: str
    risk_flags: list[str]
    action: DraftAction
    sop_ids: list[str] = Field(description="Documents the draft cited, in order: its SOP first.")
    draft_text: str | None
    decision: DraftStatus
    final_text: str | None = Field(description="The text as sent: the draft if approved, the edit if edited.")
    reason: RejectReason | None = None
    note: str | None = None
    actor: str
    decided_at: dt.datetime
    sop_versions: dict[str, str]
    model_version: str


def decided_cases(store: DraftStore) -> Iterator[DecidedCase]:
    """Every decided draft of the store, oldest decision first."""
    for draft, transition in store.decided():
        final = transition.final_text if transition.to_status is DraftStatus.EDITED else None
        yield DecidedCase(
            draft_id=draft.id,
            ticket_id=draft.ticket_id,
            text=draft.ticket_text,
            language=draft.triage.language,
            lob=draft.triage.lob,
            intent=draft.triage.intent,
            risk_flags=draft.triage.risk_flags,
            action=draft.action,
            sop_ids=list(dict.fromkeys(c.doc_id for c in draft.citations)),
            draft_text=draft.reply,
            decision=transition.to_status,
            final_text=final or (draft.reply if transition.to_status is DraftStatus.APPROVED else None),
            reason=transition.reason,
            note=transition.note,
            actor=transition.actor,
            decided_at=transition.at,
            sop_versions=transition.sop_versions,
            model_version=transition.model_version,
        )
