"""kill -9 of `copilot kb ingest` once it has written some chunks: the next ingest repairs the index, which then
holds what an uninterrupted ingest of the same library holds (the same chunks, documents and fingerprint)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from knowledge_base.index import chroma_client

pytestmark = pytest.mark.integration

COPILOT = str(Path(sys.executable).parent / "copilot")
LIMIT_S = 300  # a bound on waiting, not a speed target


def index_contents(chroma: Path, collection: str) -> tuple[int, dict[str, str], object]:
    """Chunks, doc id -> version, and the library fingerprint of a Chroma folder's collection."""
    found = chroma_client(path=str(chroma)).get_collection(collection)
    metadatas = found.get(include=["metadatas"])["metadatas"] or []
    versions = {str(m["doc_id"]): str(m["doc_version"]) for m in metadatas}
    return found.count(), versions, (found.metadata or {}).get("library_fingerprint")


def chunks_written(chroma: Path) -> int:
    """How many chunks Chroma has taken so far, read from its SQLite file as another process may."""
    try:
        with sqlite3.connect(f"file:{chroma / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=0.2) as db:
            return int(db.execute("SELECT count(*) FROM embeddings").fetchone()[0])
    except sqlite3.OperationalError:  # not made yet, or locked by the writer for a moment
        return 0


def test_the_next_ingest_repairs_an_index_whose_ingest_was_killed(
    ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    data, sop = tmp_path / "data", tmp_path / "sop"
    assert embeddings.onnx_dir is not None
    shutil.copytree(embeddings.onnx_dir, data / "onnx")
    shutil.copytree(ready.settings.sop_dir, sop)
    env = os.environ | {"COPILOT_DATA_DIR": str(data), "COPILOT_SOP_DIR": str(sop)}
    expected = index_contents(ready.settings.resolved_chroma_path, ready.settings.chroma_collection)

    log = tmp_path / "ingest-killed.log"
    with log.open("w") as out:
        ingest = subprocess.Popen([COPILOT, "kb", "ingest"], env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + LIMIT_S
    while chunks_written(data / "chroma") == 0 and ingest.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    ingest.kill()  # SIGKILL, mid-way through the library
    ingest.wait(timeout=30)
    written = chunks_written(data / "chroma")
    assert ingest.returncode == -9, f"the ingest ended before it was killed:\n{log.read_text()[-3000:]}"
    assert 0 < written < expected[0], f"killed after {written} of {expected[0]} chunks: not mid-way"

    repaired = subprocess.run(
        [COPILOT, "kb", "ingest"], env=env, capture_output=True, text=True, timeout=LIMIT_S, check=False
    )
    assert repaired.returncode == 0, repaired.stderr[-3000:]
    assert "Ingested" in repaired.stdout

    assert index_contents(data / "chroma", ready.settings.chroma_collection) == expected
