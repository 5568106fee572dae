"""Keyword search over the SOP passages: BM25, for the exact words (a form name, an error text) that
sentence embeddings blur, and for tickets in languages the English embedder reads poorly."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import numpy as np
from rank_bm25 import BM25Okapi
from scipy import sparse

_WORD = re.compile(r"\w{2,}")


def terms(text: str) -> list[str]:
    """Lower-cased words of two or more letters, accents removed ("não" and "nao" match)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(plain)


class KeywordIndex:
    """BM25 scores of a fixed set of passages (with their metadata), keyed by chunk id.

    rank_bm25's Okapi BM25 sets the weights (idf with its floor, k1, b); its own scoring loops over every passage
    in Python for each query word, so each passage's weight for each word is computed once here, and a query is
    one sparse product: the same scores, about a hundred times faster on the shipped library.
    """

    def __init__(
        self, passages: dict[str, str], *, metadata: dict[str, Mapping[str, Any]], stamp: str | None = None
    ) -> None:
        self.passages = dict(passages)
        self.metadata = dict(metadata)
        self.stamp = stamp  # what the indexed passages were a version of
        self._ids = list(self.passages)
        self._vocabulary: dict[str, int] = {}
        self._weights = (
            _weights(BM25Okapi([terms(text) for text in passages.values()]), self._vocabulary) if passages else None
        )

    def rank(self, query: str, *, among: set[str], k: int) -> list[tuple[str, float]]:
        """The k best-scoring chunk ids of `among`, best first; chunks sharing no word are left out."""
        if self._weights is None:
            return []
        counts = np.zeros(len(self._vocabulary))
        for term in terms(query):
            column = self._vocabulary.get(term)
            if column is not None:
                counts[column] += 1  # a word said twice counts twice, as in rank_bm25
        scores = self._weights @ counts
        hits = [(cid, float(s)) for cid, s in zip(self._ids, scores) if s > 0 and cid in among]
        return sorted(hits, key=lambda hit: hit[1], reverse=True)[:k]


def _weights(bm25: BM25Okapi, vocabulary: dict[str, int]) -> sparse.csr_matrix:
    """Passages x words: each word's BM25 contribution to a passage's score (filling `vocabulary`)."""
    rows, columns, values = [], [], []
    for row, (frequencies, length) in enumerate(zip(bm25.doc_freqs, bm25.doc_len)):
        norm = bm25.k1 * (1 - bm25.b + bm25.b * length / bm25.avgdl)
        for term, tf in frequencies.items():
            rows.append(row)
            columns.append(vocabulary.setdefault(term, len(vocabulary)))
            values.append(bm25.idf.get(term, 0.0) * tf * (bm25.k1 + 1) / (tf + norm))
    return sparse.csr_matrix((values, (rows, columns)), shape=(len(bm25.doc_len), len(vocabulary)))
