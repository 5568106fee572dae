"""The eval runner measures the real pipeline: figures move when the pipeline gets worse."""

from __future__ import annotations

import pytest

from copilot.services import Services
from evals.runner import reply_suite, retrieval_suite, risk_coverage, run, triage_suite
from evals.schemas import GoldenCase, LabelledTicket

CASE = GoldenCase(
    id="G-9001",
    text="my withdrawal from last month still hasn't reached my bank, it's been 3 weeks",
    language="en",
    lob="creator_rewards",
    intent="payout_missing",
    risk_flags=[],
    expected_action="reply",
    expected_sop_ids=["SOP-CR-03", "POL-REWARDS"],
    required_facts=[],
    forbidden_claims=["your payout will arrive tomorrow"],
)


def test_retrieval_finds_the_expected_sop_and_misses_a_wrong_one(ready: Services) -> None:
    found = retrieval_suite(ready, [CASE], k=5)
    assert found["recall_at_5"] == 1.0 and found["mrr"] >= 0.5
    wrong = CASE.model_copy(update={"expected_sop_ids": ["SOP-VER-03"]})
    assert retrieval_suite(ready, [wrong], k=5)["recall_at_5"] == 0.0


def test_reply_metrics_count_actions_and_forbidden_claims(ready: Services) -> None:
    metrics = reply_suite(ready, [CASE])
    assert metrics["action_accuracy"] == 1.0 and metrics["citations_valid"] == 1.0
    trap = CASE.model_copy(update={"forbidden_claims": ["creator support team"], "expected_action": "escalate"})
    worse = reply_suite(ready, [trap])
    assert worse["drafts_with_forbidden_claims"] == 1 and worse["action_accuracy"] == 0.0


def test_triage_metrics_score_against_the_labels(ready: Services) -> None:
    ticket = LabelledTicket(
        id="T-99999",
        text=CASE.text,
        lob="creator_rewards",
        intent="payout_missing",
        priority="P2",
        tier="T1",
        risk_flags=[],
        language="en",
    )
    assert triage_suite(ready, [ticket])["intent_accuracy"] == 1.0
    mislabelled = ticket.model_copy(update={"intent": "tax_form"})
    assert triage_suite(ready, [mislabelled])["intent_accuracy"] == 0.0


def test_an_unknown_suite_is_named(ready: Services) -> None:
    with pytest.raises(ValueError, match="unknown suite 'speed'; valid: triage, flags, retrieval, reply"):
        run(ready, suites=("speed",))


def test_risk_coverage_trades_errors_for_share_applied() -> None:
    curve = risk_coverage([0.99, 0.95, 0.6, 0.4], [True, True, False, False])
    assert (curve["coverage_at_0.9"], curve["risk_at_0.9"]) == (0.5, 0.0)
    assert (curve["coverage_at_0.3"], curve["risk_at_0.3"]) == (1.0, 0.5)


def test_out_of_scope_tickets_are_scored_apart_from_in_scope_accuracy(ready: Services) -> None:
    oos = LabelledTicket(
        id="T-99998",
        text="can you recommend a good pizza place in Lisbon? going there next week",
        lob="out_of_scope",
        intent="out_of_scope",
        priority="P4",
        tier="T1",
        risk_flags=[],
        language="en",
    )
    metrics = triage_suite(ready, [oos])
    assert metrics["out_of_scope_recall"] == 1.0 and metrics["in_scope_accuracy"] is None
