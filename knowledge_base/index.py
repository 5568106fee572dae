"""The SOP passage index: a Chroma collection behind LangChain's Chroma vector store.

`sync` makes the collection match a library exactly and cheaply: unchanged documents are left as they
are (no re-embedding), changed ones have their chunks replaced, removed ones disappear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from copilot.domain import Passage, SopDocument
from knowledge_base.chunking import Chunk, chunk_document
from knowledge_base.conflicts import Conflict
from knowledge_base.keyword import KeywordIndex
from knowledge_base.snapshot import (
    INCOMPLETE,
    IndexChanging,
    LibrarySnapshot,
    ResolveDocument,
    as_matrix,
    library_fingerprint,
    passage_of,
    snapshot_of,
)

Progress = Callable[[str, int], None]  # (document id, chunks written)
_STAMP = "library_fingerprint"  # collection metadata: changes whenever a sync changes the collection


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    chunks_written: int = 0
    warnings: list[Conflict] = field(default_factory=list)  # the library's conflicts that do not stop an ingest

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed; {self.chunks_written} chunks embedded"
        )


def chroma_client(*, path: str | None = None, url: str | None = None) -> ClientAPI:
    """A persistent local client, or an HTTP client for a Chroma server. Telemetry is off: no network."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        from urllib.parse import urlparse

        parsed = urlparse(url)
        if not parsed.hostname:
            raise ValueError(f"chroma_url must look like http://host:port, got {url!r}")
        return chromadb.HttpClient(
            host=parsed.hostname, port=parsed.port or 8000, ssl=parsed.scheme == "https", settings=settings
        )
    if not path:
        raise ValueError("a Chroma path or URL is required")
    return chromadb.PersistentClient(path=path, settings=settings)


class SopIndex:
    """Passages of the SOP library in one Chroma collection, searched by cosine similarity."""

    def __init__(self, *, client: ClientAPI, collection: str, embeddings: Embeddings) -> None:
        self.embeddings = embeddings
        self._keywords: KeywordIndex | None = None  # built on first keyword search
        self.store = Chroma(
            client=client,
            collection_name=collection,
            embedding_function=embeddings,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    def count(self) -> int:
        return self.store._collection.count()

    def sync(
        self, documents: Iterable[SopDocument], *, max_tokens: int, progress: Progress | None = None
    ) -> IngestReport:
        """Make the index hold exactly these documents. Each document is written whole or not at all."""
        report = IngestReport()
        wanted = {d.id: d for d in documents}
        stored = self._stored_hashes()
        for doc_id in sorted(set(stored) - set(wanted)):
            self.store.delete(ids=stored[doc_id][1])
            report.removed.append(doc_id)
        for doc_id, doc in wanted.items():
            previous = stored.get(doc_id)
            if previous and previous[0] == doc.content_hash:
                report.unchanged.append(doc_id)
                if progress:
                    progress(doc_id, 0)
                continue
            chunks = chunk_document(doc, max_tokens=max_tokens)
            self._replace(previous[1] if previous else [], chunks)
            (report.updated if previous else report.added).append(doc_id)
            report.chunks_written += len(chunks)
            if progress:
                progress(doc_id, len(chunks))
        if report.added or report.updated or report.removed or self.stamp() is None:
            stamp = library_fingerprint((d.id, d.content_hash) for d in wanted.values())
            self.store._collection.modify(metadata={_STAMP: stamp})
        return report

    def stamp(self) -> str | None:
        """The fingerprint of the library the collection holds, as the last sync (in any process) wrote it."""
        current = self.store._client.get_collection(self.store._collection.name)
        value = (current.metadata or {}).get(_STAMP)
        return str(value) if value is not None else None

    def _replace(self, old_ids: list[str], chunks: list[Chunk]) -> None:
        # Embed first: if the embedder fails, the old chunks are still there, untouched. Then write the new
        # chunks before removing the old ones no longer used, so a reader never finds the document missing.
        vectors = self.embeddings.embed_documents([c.text for c in chunks])
        self.store._collection.upsert(
            ids=[c.chunk_id for c in chunks],
            embeddings=np.asarray(vectors, dtype=np.float32),
            documents=[c.text for c in chunks],
            metadatas=[c.metadata for c in chunks],
        )
        stale = sorted(set(old_ids) - {c.chunk_id for c in chunks})
        if stale:
            self.store.delete(ids=stale)

    def snapshot(self, resolve: ResolveDocument) -> LibrarySnapshot:
        """The library version the index holds, read whole into memory (see knowledge_base/snapshot.py).
        Raises IndexChanging when a sync in another process was under way."""
        stamp = self.stamp()
        got = self.store._collection.get(include=["documents", "metadatas", "embeddings"])
        if self.stamp() != stamp:
            raise IndexChanging(INCOMPLETE)
        return snapshot_of(
            stamp=stamp,
            ids=list(got["ids"]),
            texts=[str(t) for t in got["documents"] or []],
            metadata=list(got["metadatas"] or []),
            vectors=as_matrix(got["embeddings"], rows=len(got["ids"])),
            embeddings=self.embeddings,
            resolve=resolve,
        )

    def _stored_hashes(self) -> dict[str, tuple[str, list[str]]]:
        """doc id -> (content hash, chunk ids) of what the collection holds now."""
        got = self.store.get(include=["metadatas"])
        out: dict[str, tuple[str, list[str]]] = {}
        for chunk_id, meta in zip(got["ids"], got["metadatas"]):
            doc_id, content_hash = str(meta["doc_id"]), str(meta["content_hash"])
            known_hash, ids = out.get(doc_id, (content_hash, []))
            # Mixed hashes mean a half-replaced document: an empty hash forces a rewrite.
            out[doc_id] = (known_hash if known_hash == content_hash else "", [*ids, chunk_id])
        return out

    def search(
        self,
        query: str,
        *,
        k: int,
        lobs: list[str] | None = None,
        locales: list[str] | None = None,
        doc_ids: list[str] | None = None,
        query_vector: list[float] | None = None,
    ) -> list[Passage]:
        """The k passages closest in meaning to the query, from documents in force (see `_where` for filters)."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        vector = query_vector if query_vector is not None else self.embeddings.embed_query(query)
        where = _where(lobs=lobs, locales=locales, doc_ids=doc_ids)
        hits = self.store.similarity_search_by_vector_with_relevance_scores(vector, k=k, filter=where)
        return [passage_of(doc.id or "", doc.page_content, doc.metadata, 1.0 - distance) for doc, distance in hits]

    def keyword_search(
        self,
        query: str,
        *,
        k: int,
        lobs: list[str] | None = None,
        locales: list[str] | None = None,
    ) -> list[Passage]:
        """The k passages sharing the most telling words with the query (BM25), under the same filters.

        Each passage's score is its BM25 score, which is not comparable with a similarity.
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        allowed = self.store.get(where=_where(lobs=lobs, locales=locales), include=[])["ids"]
        keywords = self._keyword_index()
        ranked = keywords.rank(query, among=set(allowed), k=k)
        return [passage_of(cid, keywords.passages[cid], keywords.metadata[cid], score) for cid, score in ranked]

    def similarities(self, chunk_ids: list[str], query_vector: list[float]) -> dict[str, float]:
        """Cosine similarity of the query with each of these passages (the embedder's vectors are unit length)."""
        if not chunk_ids:
            return {}
        got = self.store.get(ids=chunk_ids, include=["embeddings"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32) @ np.asarray(query_vector, dtype=np.float32)
        return {cid: round(float(v), 4) for cid, v in zip(got["ids"], vectors)}

    def _keyword_index(self) -> KeywordIndex:
        """The BM25 index of the whole collection, rebuilt when a sync (in this process or another, say a
        CLI ingest next to a running server) changed what the collection holds."""
        stamp = self.stamp()
        if self._keywords is None or self._keywords.stamp != stamp:
            got = self.store.get(include=["documents", "metadatas"])
            self._keywords = KeywordIndex(
                dict(zip(got["ids"], got["documents"])), metadata=dict(zip(got["ids"], got["metadatas"])), stamp=stamp
            )
        return self._keywords

    def passages_of(self, doc_id: str) -> list[Passage]:
        """Every passage of one document, in chunk order."""
        got = self.store.get(where={"doc_id": doc_id}, include=["metadatas", "documents"])
        passages = [passage_of(i, t, m, 1.0) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(passages, key=lambda p: p.chunk_id)


def _where(
    *,
    lobs: list[str] | None = None,
    locales: list[str] | None = None,
    doc_ids: list[str] | None = None,
) -> Any:
    """A Chroma filter: active documents in effect today, optionally only passages of some LOBs, in some
    locales (a template's own; other sections are in their document's base language) or of some documents."""
    day = int(dt.date.today().strftime("%Y%m%d"))
    clauses: list[dict[str, Any]] = [{"status": "active"}, {"effective_date": {"$lte": day}}]
    for key, values in (("lob", lobs), ("locale", locales), ("doc_id", doc_ids)):
        if values:
            clauses.append({key: {"$in": values}})
    return {"$and": clauses}  # LangChain types `filter` as dict[str, str]; Chroma takes operators
