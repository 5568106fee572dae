"""The embedder: ONNX Runtime gives PyTorch's vectors. The cache: single texts embed once, with the
model's own vectors, and it is bounded."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from knowledge_base.embeddings import CachedEmbeddings, LocalMiniLMEmbeddings, _batches


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


@pytest.mark.integration
def test_onnx_runtime_gives_the_same_vectors_as_pytorch_in_the_callers_order(
    embeddings: LocalMiniLMEmbeddings,
) -> None:
    assert embeddings.onnx_dir is not None
    texts = ["a much longer ticket about a payout that never arrived last month", "cannot log in", "hi"]
    # and enough tickets of mixed length for many batches, which run on several cores at once
    texts += [f"ticket {n}: my payout is late " + "and still nothing " * (n % 17) for n in range(80)]
    onnx = np.asarray(embeddings.embed_documents(texts))
    torch = np.asarray(LocalMiniLMEmbeddings().embed_documents(texts))
    assert np.allclose(onnx, torch, atol=1e-5)
    assert list(embeddings.onnx_dir.glob("*.onnx")), "the export is kept for the next process"


@pytest.mark.unit
def test_batches_keep_every_text_once_within_the_count_and_token_limits() -> None:
    lengths = [5, 5, 5, 40, 40, 300]
    batches = _batches(list(range(6)), lengths, most=2, tokens=100)
    assert batches == [[0, 1], [2, 3], [4], [5]], "a text longer than the budget still gets its own batch"


@pytest.mark.integration
def test_a_repeated_query_is_embedded_once_with_the_models_vector(embeddings: LocalMiniLMEmbeddings) -> None:
    counting = Counting(embeddings)
    cached = CachedEmbeddings(counting)
    first, again = cached.embed_query("where is my payout"), cached.embed_query("where is my payout")
    assert counting.asked == ["where is my payout"]
    assert first == again == embeddings.embed_query("where is my payout")


@pytest.mark.integration
def test_batches_pass_through_so_a_vector_never_depends_on_what_came_before(
    embeddings: LocalMiniLMEmbeddings,
) -> None:
    counting = Counting(embeddings)
    cached = CachedEmbeddings(counting)
    cached.embed_documents(["cannot log in", "a much longer ticket about a missing payout from last month"])
    assert cached.embed_query("cannot log in") == embeddings.embed_query("cannot log in")
    assert counting.asked[-1] == "cannot log in"


@pytest.mark.integration
def test_the_cache_forgets_the_least_recently_used_text(embeddings: LocalMiniLMEmbeddings) -> None:
    counting = Counting(embeddings)
    cached = CachedEmbeddings(counting, size=2)
    for text in ["a payout", "a login", "a payout", "a badge", "a payout", "a login"]:
        cached.embed_query(text)
    assert counting.asked == ["a payout", "a login", "a badge", "a login"]
