"""The embedder cache: single texts embed once, with the model's own vectors; the cache is bounded."""

from __future__ import annotations

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


def test_a_repeated_query_is_embedded_once_with_the_models_vector(embeddings: LocalMiniLMEmbeddings) -> None:
    counting = Counting(embeddings)
    cached = CachedEmbeddings(counting)
    first, again = cached.embed_query("where is my payout"), cached.embed_query("where is my payout")
    assert counting.asked == ["where is my payout"]
    assert first == again == embeddings.embed_query("where is my payout")


def test_batches_pass_through_so_a_vector_never_depends_on_what_came_before(
    embeddings: LocalMiniLMEmbeddings,
) -> None:
    counting = Counting(embeddings)
    cached = CachedEmbeddings(counting)
    cached.embed_documents(["cannot log in", "a much longer ticket about a missing payout from last month"])
    assert cached.embed_query("cannot log in") == embeddings.embed_query("cannot log in")
    assert counting.asked[-1] == "cannot log in"


def test_the_cache_forgets_the_least_recently_used_text(embeddings: LocalMiniLMEmbeddings) -> None:
    counting = Counting(embeddings)
    cached = CachedEmbeddings(counting, size=2)
    for text in ["a payout", "a login", "a payout", "a badge", "a payout", "a login"]:
        cached.embed_query(text)
    assert counting.asked == ["a payout", "a login", "a badge", "a login"]
