"""Fixtures that build real parts in temp dirs: a Chroma index of the real SOP library, a SQLite file,
a trained triage model, and the real FastAPI app. The expensive ones are built once per session.
Collection fails if a test is not of exactly one tier (unit, integration, browser)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain.accounts import Role
from copilot.domain.taxonomy import Taxonomy, load_taxonomy
from copilot.pipeline import ingest
from copilot.services import Services, build_services, load_triage_model
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import SOP_DIR, api_key, make_settings

# Every test is of exactly one tier (see the markers in pyproject.toml), so `-m unit` is the fast loop.
TIERS = ("unit", "integration", "browser")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: every collected test is checked, whatever is run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wrong = []
    for item in items:
        tiers = sorted({mark.name for mark in item.iter_markers() if mark.name in TIERS})
        if len(tiers) != 1:
            wrong.append(f"  {item.nodeid}: {' and '.join(tiers) if tiers else 'no tier'}")
    if wrong:
        raise pytest.UsageError(
            f"each test needs exactly one tier marker ({', '.join(TIERS)}); mark the module with "
            "`pytestmark = pytest.mark.<tier>` or the test with `@pytest.mark.<tier>`:\n" + "\n".join(wrong)
        )


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
def api_keys(ready: Services) -> dict[Role, str]:
    """One API key of each role on the `ready` services, made as an operator would with `copilot keys create`."""
    return {role: api_key(ready, role) for role in Role}


@pytest.fixture(scope="session")
def client(ready: Services, api_keys: dict[Role, str]) -> Iterator[TestClient]:
    """The real app over `ready`, calling as an admin (who may use every route)."""
    app = create_app(ready.settings, services=ready)
    with TestClient(app, headers={"X-API-Key": api_keys[Role.ADMIN]}) as test_client:
        yield test_client
