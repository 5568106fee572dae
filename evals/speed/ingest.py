"""How fast the shipped library goes into an empty index once the embedder is loaded, and how long an ingest
takes when nothing changed (what every `copilot serve` start and every publish pays)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from copilot.pipeline import ingest
from copilot.services import Services, build_services
from copilot.settings import Settings
from knowledge_base.embeddings import CachedEmbeddings


@dataclass(frozen=True)
class IngestTimes:
    chunks: int
    seconds: float  # into an empty index
    again_seconds: float  # the same library again: nothing to embed or write

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds


def warm_embedder(embeddings: Embeddings, texts: list[str]) -> None:
    """Load the embedder and open its runtime sessions (one text alone, then many in batches), untimed."""
    embeddings.embed_documents(texts[:1])
    embeddings.embed_documents(texts)


def time_ingest(services: Services) -> IngestTimes:
    """Ingest settings.sop_dir into the services' index, which must be empty, then again unchanged. The embedder
    should be warm (`warm_embedder`): loading it is not what this measures."""
    if services.index.count():
        raise RuntimeError("the ingest is timed into an empty index, and this one holds passages")
    started = time.perf_counter()
    report = ingest(services)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    ingest(services)
    again = time.perf_counter() - started
    if report.chunks_written == 0:
        raise RuntimeError(f"the ingest of {services.settings.sop_dir} wrote no chunk: is the SOP folder empty?")
    return IngestTimes(chunks=report.chunks_written, seconds=seconds, again_seconds=again)


def time_ingest_in(folder: Path, settings: Settings, *, embeddings: Embeddings) -> IngestTimes:
    """`time_ingest` into a new index and records database in `folder`, with the given (warm) embedder; `folder`
    is the caller's to remove (with the workspace)."""
    inner = embeddings.inner if isinstance(embeddings, CachedEmbeddings) else embeddings
    services = build_services(settings.model_copy(update={"data_dir": folder}), embeddings=inner)
    try:
        return time_ingest(services)
    finally:
        services.store.close()
