"""Fixtures that build real parts in temp dirs: a Chroma index of the real SOP library, a SQLite file,
a trained triage model, and the real FastAPI app. The expensive ones are built once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain.taxonomy import Taxonomy, load_taxonomy
from copilot.pipeline import ingest
from copilot.services import Services, build_services, load_triage_model
from copilot.settings import PROJECT_ROOT, Settings
from knowledge_base.embeddings import LocalMiniLMEmbeddings

SOP_DIR = PROJECT_ROOT / "sop"
DATASETS_DIR = PROJECT_ROOT / "evals" / "datasets"
TRAINING_DIR = PROJECT_ROOT / "training"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    fields: dict[str, object] = {
        "data_dir": data_dir,
        "sop_dir": SOP_DIR,
        "datasets_dir": DATASETS_DIR,
        "training_dir": TRAINING_DIR,
    }
    return Settings(_env_file=None, **(fields | overrides))  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def embeddings(tmp_path_factory: pytest.TempPathFactory) -> LocalMiniLMEmbeddings:
    """The embedder as the services build it: MiniLM in ONNX Runtime, exported once for the session."""
    return LocalMiniLMEmbeddings(onnx_dir=tmp_path_factory.mktemp("onnx"))


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy(SOP_DIR / "taxonomy.yaml")


@pytest.fixture(scope="session")
def ready(tmp_path_factory: pytest.TempPathFactory, embeddings: LocalMiniLMEmbeddings) -> Iterator[Services]:
    """Services over the full SOP library, ingested, with the default triage model trained."""
    settings = make_settings(tmp_path_factory.mktemp("copilot-data"))
    services = build_services(settings, embeddings=embeddings)
    ingest(services)
    load_triage_model(services, train_if_missing=True)
    yield services
    services.store.close()


@pytest.fixture(scope="session")
def client(ready: Services) -> Iterator[TestClient]:
    with TestClient(create_app(ready.settings, services=ready)) as test_client:
        yield test_client
