"""One published library, held whole in memory: the documents, their passages and vectors, the keyword index
and the figures, read from the index as one consistent version.

Retrieval and drafting read the same snapshot, so a draft's text, its citations and the SOP versions it records
cannot disagree. Every serving process holds the snapshot of the library the index holds now and swaps to a
newer one atomically when another process (the CLI, another worker, a console publish) changes the index
(`LibraryHolder`). The shipped library is a few hundred passages: scoring them all in memory is exact and takes
well under a millisecond, while Chroma stays the store of record that every process shares.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from copilot.domain import Passage, SopDocument
from knowledge_base.chunking import split_joined
from knowledge_base.keyword import KeywordIndex
from knowledge_base.library import SopLibrary

logger = logging.getLogger(__name__)

# doc id, content hash -> the document as published with that hash; raises VersionUnavailable when unknown
ResolveDocument = Callable[[str, str], SopDocument]
INCOMPLETE = (
    "the SOP index holds no complete library version: an ingest is under way, or was interrupted "
    "(run `copilot kb ingest`)"
)
_READ_ATTEMPTS = 20  # reads of an index being written, 50 ms apart, before giving up (a first snapshot only)


class IndexChanging(RuntimeError):
    """The index was being written while it was read: what was read is not one library version."""


class VersionUnavailable(LookupError):
    """The index holds a document version whose text is neither in the SOP folder nor kept as published."""


def library_fingerprint(held: Iterable[tuple[str, str]]) -> str:
    """What identifies a library version: the hash of its (doc id, content hash) pairs, in any order."""
    return hashlib.sha256(" ".join(sorted(f"{doc_id}:{digest}" for doc_id, digest in held)).encode()).hexdigest()


@dataclass(frozen=True)
class _Columns:
    """Per-passage values the filters test, as arrays aligned with the vectors."""

    lob: np.ndarray
    locale: np.ndarray
    doc_id: np.ndarray
    effective_date: np.ndarray  # yyyymmdd as an integer, as the index keeps it


class LibrarySnapshot:
    """An immutable library version and its passages. `search`, `keyword_search`, `similarities` and
    `passages_of` answer as `SopIndex` does, from memory."""

    def __init__(
        self,
        *,
        library: SopLibrary,
        fingerprint: str | None,
        embeddings: Embeddings,
        passages: list[Passage],
        vectors: np.ndarray,
        metadata: list[Mapping[str, Any]],
    ) -> None:
        self.library = library
        self.fingerprint = fingerprint
        self.embeddings = embeddings
        self.passages = {p.chunk_id: p for p in passages}
        self._order = [p.chunk_id for p in passages]
        self._position = {chunk_id: n for n, chunk_id in enumerate(self._order)}
        norms = np.linalg.norm(vectors, axis=1, keepdims=True) if len(vectors) else np.ones((0, 1))
        self._vectors = (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)
        self._columns = _Columns(
            lob=np.array([str(m["lob"]) for m in metadata]),
            locale=np.array([str(m["locale"]) for m in metadata]),
            doc_id=np.array([str(m["doc_id"]) for m in metadata]),
            effective_date=np.array([int(m["effective_date"]) for m in metadata], dtype=np.int64),
        )
        self.keywords = KeywordIndex(
            {p.chunk_id: p.text for p in passages}, metadata=dict(zip(self._order, metadata)), stamp=fingerprint
        )

    def __len__(self) -> int:
        return len(self._order)

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
        """The k passages closest in meaning to the query (cosine similarity, exact), under the filters."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        vector = self._unit(query_vector if query_vector is not None else self.embeddings.embed_query(query))
        allowed = np.flatnonzero(self._allowed(lobs=lobs, locales=locales, doc_ids=doc_ids))
        if not len(allowed):
            return []
        scores = self._vectors[allowed] @ vector
        best = allowed[np.argsort(-scores, kind="stable")[:k]]
        return [self._scored(self._order[n], float(self._vectors[n] @ vector)) for n in best]

    def keyword_search(
        self, query: str, *, k: int, lobs: list[str] | None = None, locales: list[str] | None = None
    ) -> list[Passage]:
        """The k passages sharing the most telling words with the query (BM25 scores), under the filters."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        among = {self._order[n] for n in np.flatnonzero(self._allowed(lobs=lobs, locales=locales))}
        return [self._scored(cid, score) for cid, score in self.keywords.rank(query, among=among, k=k)]

    def similarities(self, chunk_ids: list[str], query_vector: list[float]) -> dict[str, float]:
        """Cosine similarity of the query with each of these passages."""
        vector = self._unit(query_vector)
        return {
            cid: round(float(self._vectors[self._position[cid]] @ vector), 4)
            for cid in chunk_ids
            if cid in self._position
        }

    def passages_of(self, doc_id: str) -> list[Passage]:
        """Every passage of one document, in chunk order."""
        return sorted(
            (self._scored(cid, 1.0) for cid in self._order if self.passages[cid].doc_id == doc_id),
            key=lambda p: p.chunk_id,
        )

    def with_documents(
        self, documents: list[SopDocument], chunks: list[tuple[str, str, Mapping[str, Any]]], vectors: np.ndarray
    ) -> LibrarySnapshot:
        """A candidate library: this one with some documents replaced (or added) by the given versions, their
        chunks (id, text, metadata) and the chunks' vectors. Nothing is written anywhere: the impact preview
        replays tickets against it before a writer publishes."""
        replaced = {d.id for d in documents}
        added = as_matrix(vectors, rows=len(chunks), width=self._vectors.shape[1])
        kept = [n for n, cid in enumerate(self._order) if self.passages[cid].doc_id not in replaced]
        documents_by_id = {i: d for i, d in self.library.documents.items() if i not in replaced}
        documents_by_id.update({d.id: d for d in documents})
        return LibrarySnapshot(
            library=SopLibrary.of(documents_by_id),
            fingerprint=library_fingerprint((d.id, d.content_hash) for d in documents_by_id.values()),
            embeddings=self.embeddings,
            passages=[
                *(self.passages[self._order[n]] for n in kept),
                *(passage_of(cid, text, meta) for cid, text, meta in chunks),
            ],
            vectors=np.vstack([self._vectors[kept], added]),
            metadata=[*(self.keywords.metadata[self._order[n]] for n in kept), *(meta for _, _, meta in chunks)],
        )

    def _allowed(
        self, *, lobs: list[str] | None = None, locales: list[str] | None = None, doc_ids: list[str] | None = None
    ) -> np.ndarray:
        """Passages of documents in effect today (every indexed document is active), under the optional filters;
        the same rules as the index's Chroma filter."""
        today = int(dt.date.today().strftime("%Y%m%d"))
        mask = self._columns.effective_date <= today
        columns = self._columns
        for column, values in ((columns.lob, lobs), (columns.locale, locales), (columns.doc_id, doc_ids)):
            if values:
                mask &= np.isin(column, values)
        return mask

    def _scored(self, chunk_id: str, score: float) -> Passage:
        return self.passages[chunk_id].model_copy(update={"score": round(score, 4)})

    @staticmethod
    def _unit(vector: list[float]) -> np.ndarray:
        v = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v


def as_matrix(vectors: Any, *, rows: int, width: int = 1) -> np.ndarray:
    """Vectors as a float32 matrix of `rows` rows; with none, an empty matrix `width` wide."""
    return np.asarray(vectors, dtype=np.float32).reshape(rows, -1) if rows else np.zeros((0, width), np.float32)


def passage_of(chunk_id: str, text: str, meta: Mapping[str, Any], score: float = 1.0) -> Passage:
    """A passage from what the index keeps of a chunk: its text and metadata."""
    return Passage(
        chunk_id=chunk_id,
        doc_id=str(meta["doc_id"]),
        doc_version=str(meta["doc_version"]),
        doc_type=str(meta["doc_type"]),
        title=str(meta["title"]),
        section=str(meta["section"]),
        lob=str(meta["lob"]),
        intents=split_joined(str(meta.get("intents", ""))),
        text=text,
        score=round(float(score), 4),
    )


def snapshot_of(
    *,
    stamp: str | None,
    ids: list[str],
    texts: list[str],
    metadata: list[Mapping[str, Any]],
    vectors: np.ndarray,
    embeddings: Embeddings,
    resolve: ResolveDocument,
) -> LibrarySnapshot:
    """A snapshot from one read of the index. Raises IndexChanging when the chunks read are not the library
    version the index's stamp names (a sync was under way), VersionUnavailable when a document's text is lost."""
    held = {(str(m["doc_id"]), str(m["content_hash"])) for m in metadata}
    if ids and library_fingerprint(held) != stamp:
        raise IndexChanging(INCOMPLETE)
    documents = {doc_id: resolve(doc_id, digest) for doc_id, digest in sorted(held)}
    passages = [passage_of(cid, text, meta) for cid, text, meta in zip(ids, texts, metadata)]
    return LibrarySnapshot(
        library=SopLibrary.of(documents),
        fingerprint=stamp if ids else None,
        embeddings=embeddings,
        passages=passages,
        vectors=vectors,
        metadata=metadata,
    )


class LibraryHolder:
    """The snapshot of the library the index holds now, for every request of one process.

    `current()` reads the index's stamp (one small read) and, when another process published a new version,
    builds the new snapshot and swaps it in whole; a request that already holds the old one finishes with it.
    While a sync is under way elsewhere, the last complete snapshot stays in use.
    """

    def __init__(self, read: Callable[[], LibrarySnapshot], stamp: Callable[[], str | None]) -> None:
        self._read = read
        self._stamp = stamp
        self._current: LibrarySnapshot | None = None
        self._lock = threading.Lock()

    def current(self) -> LibrarySnapshot:
        stamp = self._stamp()
        held = self._current
        if held is not None and held.fingerprint == stamp:
            return held
        with self._lock:  # one build per new version, however many requests notice it at once
            held = self._current
            if held is not None and held.fingerprint == stamp:
                return held
            self._current = self._build(fallback=held)
            return self._current

    def catch_up(self) -> None:
        """After this process changed the index: a snapshot held here moves to the new version now; a process that
        holds none yet (a CLI ingest) builds nothing, and its first request builds one."""
        if self._current is not None:
            self.current()

    def _build(self, *, fallback: LibrarySnapshot | None) -> LibrarySnapshot:
        for attempt in range(_READ_ATTEMPTS):
            try:
                return self._read()
            except (IndexChanging, VersionUnavailable) as exc:
                if fallback is not None:  # serve the last complete version; the next request looks again
                    logger.info("SOP library: keeping version %s for now (%s)", fallback.fingerprint, exc)
                    return fallback
                if attempt == _READ_ATTEMPTS - 1:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")
