"""Every ticket gets a tone, so intake can see the angry ones."""

from __future__ import annotations

import pytest

from copilot.triage.sentiment import sentiment_of

pytestmark = pytest.mark.unit


def test_an_angry_ticket_reads_negative_and_a_thankful_one_positive() -> None:
    assert sentiment_of("This is ridiculous. Worst support ever, I am furious and done waiting!!")[0] == "negative"
    assert sentiment_of("Thanks so much, you were really helpful, love the app!")[0] == "positive"


def test_a_plain_question_reads_neutral() -> None:
    label, score = sentiment_of("how do I change the email on my account")
    assert label == "neutral" and -0.05 < score < 0.05
