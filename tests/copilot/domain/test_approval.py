"""The approval state machine on its own: pending -> approved | edited | rejected, once."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from copilot.domain import Decision, DecisionKind, DraftStatus, RejectReason
from copilot.domain.approval import AlreadyDecided, decide, next_status
from tests.factories import a_draft

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (DecisionKind.APPROVE, DraftStatus.APPROVED),
        (DecisionKind.EDIT, DraftStatus.EDITED),
        (DecisionKind.REJECT, DraftStatus.REJECTED),
    ],
)
def test_a_pending_draft_moves_to_the_decided_status(kind: DecisionKind, expected: DraftStatus) -> None:
    assert next_status(DraftStatus.PENDING, kind) is expected


@pytest.mark.parametrize("status", [DraftStatus.APPROVED, DraftStatus.EDITED, DraftStatus.REJECTED])
def test_a_decided_draft_cannot_be_decided_again(status: DraftStatus) -> None:
    with pytest.raises(AlreadyDecided, match=f"already {status.value}"):
        decide(a_draft(status), Decision(kind=DecisionKind.APPROVE, actor="agent-7"), at=NOW)


def test_approval_keeps_the_drafted_text_and_the_sop_versions_it_rested_on() -> None:
    transition = decide(a_draft(), Decision(kind=DecisionKind.APPROVE, actor="agent-7"), at=NOW)
    assert transition.final_text == a_draft().reply
    assert transition.sop_versions == {"SOP-CR-03": "1.2.0"}
    assert (transition.actor, transition.at) == ("agent-7", NOW)


def test_an_edit_keeps_the_sent_text_and_a_diff_of_the_change() -> None:
    edited = "Hi there,\nYour payout was sent on 3 November.\nThe Creator Support team"
    transition = decide(a_draft(), Decision(kind=DecisionKind.EDIT, actor="agent-7", final_text=edited), at=NOW)
    assert transition.final_text == edited
    assert "-Your payout is on its way." in (transition.diff or "")
    assert "+Your payout was sent on 3 November." in (transition.diff or "")


def test_a_rejection_needs_a_reason_from_the_fixed_list() -> None:
    with pytest.raises(ValidationError, match="needs a reason"):
        Decision(kind=DecisionKind.REJECT, actor="agent-7")
    transition = decide(
        a_draft(),
        Decision(kind=DecisionKind.REJECT, actor="agent-7", reason=RejectReason.WRONG_POLICY, note="CR-04"),
        at=NOW,
    )
    assert (transition.to_status, transition.reason, transition.final_text) == (
        DraftStatus.REJECTED,
        RejectReason.WRONG_POLICY,
        None,
    )


def test_an_edit_without_text_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs final_text"):
        Decision(kind=DecisionKind.EDIT, actor="agent-7", final_text="   ")
