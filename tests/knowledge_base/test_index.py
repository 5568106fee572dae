"""The Chroma index: idempotent ingest, stable chunk ids, filtered search."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from copilot.domain import SopDocument
from copilot.domain.taxonomy import Taxonomy
from knowledge_base.chunking import chunk_document
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from knowledge_base.index import SopIndex, chroma_client
from knowledge_base.library import load_library
from tests.factories import SOP_DIR

SMALL_LIBRARY = ["POL-REWARDS.md", "SOP-CR-03.md", "SOP-CR-04.md", "SOP-AA-01.md", "POL-ACCOUNT.md"]


class CountingEmbeddings(LocalMiniLMEmbeddings):
    """The real model, counting how many texts it was asked to embed."""

    def __init__(self, inner: LocalMiniLMEmbeddings) -> None:
        super().__init__()
        self.__dict__["model"] = inner.model
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


@pytest.fixture
def sop_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "sop"
    folder.mkdir()
    for name in SMALL_LIBRARY:
        shutil.copy(SOP_DIR / name, folder / name)
    return folder


@pytest.fixture
def index(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> SopIndex:
    client = chroma_client(path=str(tmp_path / "chroma"))
    return SopIndex(client=client, collection="test", embeddings=CountingEmbeddings(embeddings))


def docs(folder: Path, taxonomy: Taxonomy) -> list[SopDocument]:
    return load_library(folder, taxonomy).active()


@pytest.mark.integration
def test_ingesting_twice_embeds_nothing_the_second_time(sop_dir: Path, index: SopIndex, taxonomy: Taxonomy) -> None:
    first = index.sync(docs(sop_dir, taxonomy), max_tokens=350)
    counted = index.embeddings.embedded  # type: ignore[attr-defined]
    second = index.sync(docs(sop_dir, taxonomy), max_tokens=350)
    assert sorted(first.added) == sorted(p.removesuffix(".md") for p in SMALL_LIBRARY)
    assert second.added == second.updated == second.removed == []
    assert index.embeddings.embedded == counted  # type: ignore[attr-defined]
    assert index.count() == first.chunks_written


@pytest.mark.integration
def test_a_changed_document_replaces_its_chunks_and_a_removed_one_disappears(
    sop_dir: Path, index: SopIndex, taxonomy: Taxonomy
) -> None:
    index.sync(docs(sop_dir, taxonomy), max_tokens=350)
    path = sop_dir / "SOP-CR-04.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^version: .*$", "version: 9.9.9", text, count=1, flags=re.M), encoding="utf-8")
    (sop_dir / "SOP-AA-01.md").unlink()
    report = index.sync(docs(sop_dir, taxonomy), max_tokens=350)
    assert (report.updated, report.removed) == (["SOP-CR-04"], ["SOP-AA-01"])
    assert {p.doc_version for p in index.passages_of("SOP-CR-04")} == {"9.9.9"}
    assert index.passages_of("SOP-AA-01") == []
    assert all(p.doc_id != "SOP-AA-01" for p in index.search("I can't log in", k=10))


@pytest.mark.unit
def test_chunk_ids_are_stable_and_carry_the_document_metadata(taxonomy: Taxonomy) -> None:
    [doc] = [d for d in load_library(SOP_DIR, taxonomy).active() if d.id == "SOP-CR-03"]
    first, again = chunk_document(doc, max_tokens=120), chunk_document(doc, max_tokens=120)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert first[0].chunk_id == "SOP-CR-03::when-this-applies::0"
    assert len({c.chunk_id for c in first}) == len(first)
    meta = first[0].metadata
    assert (meta["doc_id"], meta["lob"], meta["intents"], meta["locale"]) == (
        "SOP-CR-03",
        "creator_rewards",
        "|payout_missing|",
        "en",
    )
    assert {c.metadata["locale"] for c in first} >= {"en", "es", "pt"}


@pytest.mark.integration
def test_search_finds_the_right_sop_and_respects_the_lob_filter(
    sop_dir: Path, index: SopIndex, taxonomy: Taxonomy
) -> None:
    index.sync(docs(sop_dir, taxonomy), max_tokens=350)
    hits = index.search("my withdrawal never arrived in my bank", k=3)
    assert hits[0].doc_id in {"SOP-CR-03", "POL-REWARDS"}
    filtered = index.search("my withdrawal never arrived in my bank", k=5, lobs=["account_access"])
    assert {p.lob for p in filtered} == {"account_access"}
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        index.search("anything", k=0)
