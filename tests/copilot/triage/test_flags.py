"""The learned flag detector: thresholds keep precision, and a flag raised by the model sets the rules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from copilot.domain.taxonomy import Taxonomy
from copilot.triage.flags import FlagDetector, lowest_precise_threshold
from copilot.triage.rules import apply_rules

pytestmark = pytest.mark.unit


def test_the_threshold_is_the_lowest_score_that_keeps_precision() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    truth = np.array([True, True, False, True, False, False])
    assert lowest_precise_threshold(scores, truth, 0.75) == 0.6  # 3 of the 4 at or above 0.6
    assert lowest_precise_threshold(scores, truth, 1.0) == 0.8
    assert lowest_precise_threshold(scores, np.zeros(6, dtype=bool), 0.9) is None


def test_a_flag_the_detector_can_separate_is_learned_and_detected() -> None:
    rng = np.random.default_rng(0)
    flagged = rng.normal(2.0, 0.3, size=(30, 4))
    plain = rng.normal(-2.0, 0.3, size=(60, 4))
    features = sparse.csr_matrix(np.vstack([flagged, plain]))
    flag_sets = [frozenset({"self_harm"})] * 30 + [frozenset()] * 60
    detector = FlagDetector().fit(features, flag_sets, flags=["self_harm", "press_inquiry"])
    assert detector.flags == ["self_harm"], "a flag with no examples is left to the patterns"
    found = detector.detect(sparse.csr_matrix(np.array([[2.1, 1.9, 2.0, 2.2], [-2.0, -1.8, -2.1, -2.0]])))
    assert found == [["self_harm"], []]


def test_a_detected_flag_raises_priority_and_tier_like_a_pattern_match(taxonomy: Taxonomy) -> None:
    plain = apply_rules("my payout is late", "payout_missing", taxonomy)
    flagged = apply_rules("my payout is late", "payout_missing", taxonomy, detected=["self_harm"])
    assert (plain.priority, plain.escalate) == ("P2", False)
    assert (flagged.priority, flagged.tier, flagged.escalate, flagged.queue) == ("P1", "T2", True, "wellbeing-response")
