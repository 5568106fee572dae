"""The ticket's tone, for intake's queues and agents' awareness: negative, neutral or positive.

VADER (a lexicon and rules tuned to short social text: capitals, punctuation, emoji) scores the text.
Its lexicon is English; other languages mostly score from emoji and shared words, so read a
non-English 'neutral' as 'not measured' rather than as calm.
"""

from __future__ import annotations

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from copilot.domain.tickets import Sentiment

_CUTOFF = 0.05  # VADER's own convention for its compound score


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def sentiment_of(text: str) -> tuple[Sentiment, float]:
    """The label and VADER's compound score, from -1 (most negative) to 1."""
    score = float(_analyzer().polarity_scores(text)["compound"])
    if score <= -_CUTOFF:
        return "negative", score
    if score >= _CUTOFF:
        return "positive", score
    return "neutral", score
