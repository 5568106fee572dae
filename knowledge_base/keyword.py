"""Keyword search over the SOP passages: BM25, for the exact words (a form name, an error text) that
sentence embeddings blur, and for tickets in languages the English embedder reads poorly."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from rank_bm25 import BM25Okapi

_WORD = re.compile(r"\w{2,}")


def terms(text: str) -> list[str]:
    """Lower-cased words of two or more letters, accents removed ("não" and "nao" match)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(plain)


class KeywordIndex:
    """BM25 scores of a fixed set of passages (with their metadata), keyed by chunk id."""

    def __init__(
        self, passages: dict[str, str], *, metadata: dict[str, Mapping[str, Any]], stamp: str | None = None
    ) -> None:
        self.passages = dict(passages)
        self.metadata = dict(metadata)
        self.stamp = stamp  # what the indexed passages were a version of
        self._bm25 = BM25Okapi([terms(text) for text in passages.values()]) if passages else None

    def rank(self, query: str, *, among: set[str], k: int) -> list[tuple[str, float]]:
        """The k best-scoring chunk ids of `among`, best first; chunks sharing no word are left out."""
        if self._bm25 is None:
            return []
        scores = self._bm25.get_scores(terms(query))
        hits = [(cid, float(s)) for cid, s in zip(self.passages, scores) if cid in among and s > 0]
        return sorted(hits, key=lambda hit: hit[1], reverse=True)[:k]
