"""The library snapshot answers as the index it was read from, and a candidate library replaces documents
without touching the published one."""

from __future__ import annotations

import pytest

from copilot.services import Services
from knowledge_base.chunking import chunk_document

pytestmark = pytest.mark.integration

QUERIES = [
    "my withdrawal from last week never reached my bank",
    "someone is impersonating me with a fake account",
    "how do I get the verified badge",
    "which one do I need, the W-8BEN?",
    "no me llegó el retiro de mi dinero",
]


def test_the_snapshot_ranks_as_the_index_does(ready: Services) -> None:
    snapshot = ready.snapshot()
    assert len(snapshot) == ready.index.count() > 0
    for query in QUERIES:
        by_index = ready.index.search(query, k=8, locales=["en"])
        by_snapshot = snapshot.search(query, k=8, locales=["en"])
        assert [p.chunk_id for p in by_snapshot[:5]] == [p.chunk_id for p in by_index[:5]], query
        assert by_snapshot[0].score == pytest.approx(by_index[0].score, abs=1e-3)
        assert snapshot.keyword_search(query, k=5) == ready.index.keyword_search(query, k=5)
    filtered = snapshot.search(QUERIES[0], k=20, lobs=["account_access", "all"])
    assert filtered and {p.lob for p in filtered} <= {"account_access", "all"}
    assert snapshot.passages_of("SOP-CR-03") == ready.index.passages_of("SOP-CR-03")


def test_a_candidate_library_replaces_one_document_and_leaves_the_published_one_alone(ready: Services) -> None:
    published = ready.snapshot()
    old = published.library.documents["SOP-CR-03"]
    new = old.model_copy(update={"version": "9.9.9", "content_hash": "candidate"})
    chunks = chunk_document(new, max_tokens=ready.settings.chunk_tokens)
    vectors = ready.embeddings.embed_documents([c.text for c in chunks])

    candidate = published.with_documents([new], [(c.chunk_id, c.text, c.metadata) for c in chunks], vectors)

    assert candidate.library.documents["SOP-CR-03"].version == "9.9.9"
    assert {p.doc_version for p in candidate.passages_of("SOP-CR-03")} == {"9.9.9"}
    assert {p.doc_version for p in published.passages_of("SOP-CR-03")} == {old.version}
    assert len(candidate) == len(published)
    assert candidate.fingerprint != published.fingerprint
    best = candidate.search(QUERIES[0], k=1, doc_ids=["SOP-CR-03"])[0]
    assert best.doc_version == "9.9.9" and best.score > 0.3
