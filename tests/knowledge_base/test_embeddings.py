"""The embedder cache: the same vectors as the model, each text embedded once, bounded in size."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import Embeddings

from knowledge_base.embeddings import CachedEmbeddings, LocalMiniLMEmbeddings


class Counting(Embeddings):
    """The real model, recording which texts it was asked to embed."""

    def __init__(self, model: LocalMiniLMEmbeddings) -> None:
        self.model = model
        self.asked: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.asked += texts
        return self.model.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def test_cached_vectors_are_the_models_and_each_text_is_embedded_once(embeddings: LocalMiniLMEmbeddings) -> None:
    counting = Counting(embeddings)
    cached = CachedEmbeddings(counting)
    first = cached.embed_documents(["where is my payout", "cannot log in", "where is my payout"])
    again = cached.embed_query("cannot log in")
    assert counting.asked == ["where is my payout", "cannot log in"]
    assert first[0] == first[2]
    # Batching pads texts, so the model itself differs in the sixth decimal between batch and single calls.
    assert first[0] == pytest.approx(embeddings.embed_query("where is my payout"), abs=1e-5)
    assert again == first[1]


def test_the_cache_forgets_the_least_recently_used_text(embeddings: LocalMiniLMEmbeddings) -> None:
    counting = Counting(embeddings)
    cached = CachedEmbeddings(counting, size=2)
    cached.embed_documents(["a payout", "a login"])
    cached.embed_query("a payout")  # used again: "a login" is now the oldest
    cached.embed_query("a badge")
    cached.embed_query("a payout")
    cached.embed_query("a login")
    assert counting.asked == ["a payout", "a login", "a badge", "a login"]
