"""Triage under concurrent requests leaves the log readable: the classifier predicts in many threads at once
without a warning and without touching the process's warning filters (scikit-learn's FeatureUnion reset them
around every call, and under load lost them and logged a warning per request)."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from copilot.domain import Ticket
from copilot.pipeline import triage_ticket
from copilot.services import Services

pytestmark = pytest.mark.integration

TEXTS = ["where is my payout", "i was hacked, help", "my video was removed unfairly", "how do i get verified?"]
THREADS, CALLS = 8, 25


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Threads switch as often as the interpreter allows, so a race between them shows in a few calls."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_concurrent_triage_emits_no_warning_and_keeps_the_warning_filters(
    ready: Services, frequent_thread_switches: None
) -> None:
    classifier = ready.require_classifier()
    filters = list(warnings.filters)
    shown: list[str] = []
    default_show = warnings.showwarning
    warnings.showwarning = lambda message, category, *_, **__: shown.append(f"{category.__name__}: {message}")
    try:

        def work(_: int) -> None:
            for _ in range(CALLS):
                classifier.predict(TEXTS)
            triage_ticket(Ticket(text=TEXTS[0]), services=ready)

        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(work, range(THREADS)))
    finally:
        warnings.showwarning = default_show
    assert shown == []
    assert warnings.filters == filters


def test_predictions_are_the_same_with_the_parts_transformed_one_by_one(ready: Services) -> None:
    classifier = ready.require_classifier()
    whole = classifier._ngrams.transform(TEXTS)
    assert (classifier._ngram_features(TEXTS) != whole).nnz == 0
