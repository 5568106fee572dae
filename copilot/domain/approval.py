"""The approval state machine: pending -> approved | edited | rejected, once. Pure; no I/O."""

from __future__ import annotations

import datetime as dt
import difflib

from copilot.domain import Decision, DecisionKind, Draft, DraftStatus, Transition

_OUTCOME = {
    DecisionKind.APPROVE: DraftStatus.APPROVED,
    DecisionKind.EDIT: DraftStatus.EDITED,
    DecisionKind.REJECT: DraftStatus.REJECTED,
}


class AlreadyDecided(Exception):
    """The draft left `pending` before this decision arrived."""

    def __init__(self, draft_id: str, status: DraftStatus) -> None:
        super().__init__(f"draft {draft_id} is already {status.value}; a draft is decided once")
        self.draft_id = draft_id
        self.status = status


def next_status(current: DraftStatus, kind: DecisionKind) -> DraftStatus:
    """The status a decision leads to; raises ValueError from any status but pending."""
    if current is not DraftStatus.PENDING:
        raise ValueError(f"cannot {kind.value} a draft that is {current.value}")
    return _OUTCOME[kind]


def decide(draft: Draft, decision: Decision, *, at: dt.datetime) -> Transition:
    """The transition a decision makes on a draft; raises AlreadyDecided unless it is pending."""
    if draft.status is not DraftStatus.PENDING:
        raise AlreadyDecided(draft.id, draft.status)
    to_status = next_status(draft.status, decision.kind)
    final_text = {
        DecisionKind.APPROVE: draft.reply,
        DecisionKind.EDIT: decision.final_text,
        DecisionKind.REJECT: None,
    }[decision.kind]
    diff = edit_diff(draft.reply or "", final_text) if decision.kind is DecisionKind.EDIT and final_text else None
    return Transition(
        draft_id=draft.id,
        from_status=draft.status,
        to_status=to_status,
        actor=decision.actor,
        at=at,
        reason=decision.reason,
        note=decision.note,
        final_text=final_text,
        diff=diff,
        sop_versions=draft.sop_versions,
        model_version=draft.model_version,
    )


def edit_diff(before: str, after: str) -> str:
    """A unified diff of the agent's edit, line by line."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), fromfile="draft", tofile="sent", lineterm="")
    return "\n".join(lines)
