"""retrieve(query) -> passages: SOP passages for a ticket, narrowed by its triaged LOB and intent."""

from __future__ import annotations

from copilot.domain import Passage
from knowledge_base.index import SopIndex
from knowledge_base.loader import ALL_LOBS

INTENT_BOOST = 0.10  # a passage of an SOP written for the triaged intent outranks a near-tie
_CANDIDATES_PER_RESULT = 3


def retrieve(
    query: str,
    *,
    index: SopIndex,
    k: int,
    lob: str | None = None,
    intent: str | None = None,
    query_vector: list[float] | None = None,
) -> list[Passage]:
    """The k best passages. With a LOB, only that LOB's documents and cross-LOB ones are searched.

    Raises ValueError for k < 1.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    lobs = [lob, ALL_LOBS] if lob else None
    candidates = index.search(query, k=k * _CANDIDATES_PER_RESULT, lobs=lobs, query_vector=query_vector)
    if intent:
        candidates = [
            p.model_copy(update={"score": round(p.score + INTENT_BOOST, 4)}) if intent in p.intents else p
            for p in candidates
        ]
    return sorted(candidates, key=lambda p: p.score, reverse=True)[:k]
