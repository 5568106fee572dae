"""The near-duplicate rule for tickets, shared by the split builder and the dataset validator.

Two tickets are near-duplicates when their normalised texts are equal, or when the Jaccard similarity
of their word-trigram sets is at least 0.6 (texts of fewer than three words compare word sets).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

NEAR_DUPLICATE_JACCARD = 0.6


def normalise(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = normalise(text)
    if len(words) < 3:
        return frozenset((w,) for w in words)
    return frozenset(zip(words, words[1:], words[2:]))


def jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def near_duplicate_pairs(texts: Sequence[str]) -> list[tuple[int, int, float]]:
    """Index pairs (i < j) of near-duplicate texts, with their similarity."""
    sets = [shingles(t) for t in texts]
    postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for gram in s:
            postings[gram].append(i)
    pairs = []
    for i, s in enumerate(sets):
        candidates = {j for gram in s for j in postings[gram] if j > i}
        for j in sorted(candidates):
            score = jaccard(s, sets[j])
            if score >= NEAR_DUPLICATE_JACCARD:
                pairs.append((i, j, round(score, 3)))
    return pairs
