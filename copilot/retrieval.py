"""retrieve(query) -> passages: the best passage of each of the k best SOP documents for a ticket.

Three rankings are fused by reciprocal rank (Cormack et al. 2009): meaning (the embedder's vectors, in
the library snapshot the pipeline passes), words (BM25) and triage (passages of the SOPs for the intents
the classifier ranks first). Triage weighs a little more because the classifier learned from tickets in
every language the product serves, while the embedder reads English best. A `lob` filters (its documents
and cross-LOB ones); the pipeline passes one only when triage is sure enough to apply it on its own, since
a filter turns a triage error into a retrieval miss. Documents named in `pinned` (the escalation SOP of a
raised risk flag) come first whatever their rank.

Each passage's `score` is its cosine similarity with the query, so that "weak retrieval" keeps one
meaning whichever ranking found the passage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from langchain_core.embeddings import Embeddings

from copilot.domain import Passage
from copilot.domain.sop_format import ALL_LOBS

RRF_K = 60  # the constant of reciprocal-rank fusion: 1 / (RRF_K + rank)
DENSE_WEIGHT, KEYWORD_WEIGHT, TRIAGE_WEIGHT = 1.0, 1.0, 1.5
_CANDIDATES_PER_RESULT = 8


class Passages(Protocol):
    """What retrieval reads: a library snapshot held in memory (knowledge_base/snapshot.py), or the index itself
    (knowledge_base/index.py), which answer alike."""

    @property
    def embeddings(self) -> Embeddings: ...

    def search(
        self,
        query: str,
        *,
        k: int,
        lobs: list[str] | None = None,
        locales: list[str] | None = None,
        doc_ids: list[str] | None = None,
        query_vector: list[float] | None = None,
    ) -> list[Passage]: ...

    def keyword_search(
        self, query: str, *, k: int, lobs: list[str] | None = None, locales: list[str] | None = None
    ) -> list[Passage]: ...

    def similarities(self, chunk_ids: list[str], query_vector: list[float]) -> dict[str, float]: ...


def retrieve(
    query: str,
    *,
    index: Passages,
    k: int,
    lob: str | None = None,
    language: str | None = None,
    fallback_language: str | None = None,
    intents: Sequence[str] = (),
    pinned: Sequence[str] = (),
    query_vector: list[float] | None = None,
) -> list[Passage]:
    """The best passage of each of the k best documents, best first.

    lob: only that LOB's documents and cross-LOB ones. language: only passages in that locale or in
    `fallback_language` (the taxonomy's; SOP sections other than templates are written in it).
    intents: triaged intents, best first. query_vector: the query's vector when the caller has it (from a batch,
    whose padding moves vectors in the sixth decimal: for selecting tickets, not for drafting them).
    Raises ValueError for k < 1.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    vector = query_vector if query_vector is not None else index.embeddings.embed_query(query)
    lobs = [lob, ALL_LOBS] if lob else None
    locales = sorted({language, fallback_language or language}) if language else None
    wanted = k * _CANDIDATES_PER_RESULT
    dense = index.search(query, k=wanted, lobs=lobs, locales=locales, query_vector=vector)
    words = index.keyword_search(query, k=wanted, lobs=lobs, locales=locales)
    candidates = {p.chunk_id: p for p in [*words, *dense]}  # dense last: its score is the similarity
    fused = dict.fromkeys(candidates, 0.0)
    for weight, ranking in ((DENSE_WEIGHT, dense), (KEYWORD_WEIGHT, words)):
        for rank, passage in enumerate(ranking):
            fused[passage.chunk_id] += weight / (RRF_K + rank)
    for chunk_id, passage in candidates.items():
        intent_ranks = [rank for rank, intent in enumerate(intents) if intent in passage.intents]
        if intent_ranks:
            fused[chunk_id] += TRIAGE_WEIGHT / (RRF_K + min(intent_ranks))
    scored = {p.chunk_id for p in dense}
    for doc_id in pinned:
        for passage in index.search(query, k=1, doc_ids=[doc_id], query_vector=vector):
            candidates[passage.chunk_id] = passage
            fused[passage.chunk_id] = float("inf")
            scored.add(passage.chunk_id)
    best = _best_per_document(sorted(candidates, key=lambda cid: fused[cid], reverse=True), candidates, k)
    return _with_similarity(best, index, vector, scored=scored)


def _best_per_document(ranked: list[str], passages: dict[str, Passage], k: int) -> list[Passage]:
    seen: set[str] = set()
    best: list[Passage] = []
    for chunk_id in ranked:
        passage = passages[chunk_id]
        if passage.doc_id not in seen:
            seen.add(passage.doc_id)
            best.append(passage)
        if len(best) == k:
            break
    return best


def _with_similarity(passages: list[Passage], index: Passages, vector: list[float], scored: set[str]) -> list[Passage]:
    """Passages found only by keyword carry a BM25 score: replace it with their similarity."""
    similarity = index.similarities([p.chunk_id for p in passages if p.chunk_id not in scored], vector)
    return [p.model_copy(update={"score": similarity[p.chunk_id]}) if p.chunk_id in similarity else p for p in passages]
