"""Liveness and readiness on the real app: ready only when the copilot could draft, and 503 naming why not;
a suggestion from an empty knowledge base is refused rather than drafted from nothing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain.accounts import Actor, Role
from copilot.services import Services, build_services
from copilot.store.drafts import DraftStore
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import make_settings

pytestmark = pytest.mark.integration

EMPTY_INDEX = "the knowledge base is empty; run `copilot kb ingest`"
NO_MODEL = "no triage model is loaded; run `copilot triage train`"


@pytest.fixture
def unprepared(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> Iterator[Services]:
    """Services over a fresh data dir: nothing ingested, no triage model loaded."""
    services = build_services(make_settings(tmp_path / "data"), embeddings=embeddings)
    yield services
    services.store.close()


def test_ready_on_the_ingested_library_with_a_model(client: TestClient) -> None:
    response = client.get("/v1/health/ready")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "reasons": []}
    assert client.get("/v1/health/live").json() == {"status": "alive"}


def test_an_empty_knowledge_base_is_not_ready_and_drafts_nothing(unprepared: Services, ready: Services) -> None:
    unprepared.classifier = ready.require_classifier()  # only the index is missing
    _, key = unprepared.accounts.create_key("tests-intake", Role.SERVICE, by=Actor.operator("tests"))
    with TestClient(create_app(services=unprepared), headers={"X-API-Key": key}) as client:
        response = client.get("/v1/health/ready")
        assert response.status_code == 503
        assert response.json() == {"ready": False, "reasons": [EMPTY_INDEX]}
        refused = client.post("/v1/suggest", json={"text": "my withdrawal from oct 3 still has not arrived"})
        assert refused.status_code == 503
        assert "is empty; run `copilot kb ingest`" in refused.json()["detail"]
        assert client.get("/v1/health/live").status_code == 200, "alive all the same"
    assert list(unprepared.store.decided()) == []


def test_every_reason_is_named_and_liveness_touches_none_of_them(unprepared: Services, tmp_path: Path) -> None:
    # The database file's place taken by a folder: SQLite can no longer open it, as on a lost volume.
    gone = tmp_path / "gone" / "copilot.db"
    unprepared.store = DraftStore(f"sqlite:///{gone}")
    unprepared.store.close()
    shutil.rmtree(gone.parent)
    gone.mkdir(parents=True)
    with TestClient(create_app(services=unprepared)) as client:
        response = client.get("/v1/health/ready")
        assert response.status_code == 503
        reasons = response.json()["reasons"]
        assert reasons[:2] == [EMPTY_INDEX, NO_MODEL]
        assert len(reasons) == 3 and reasons[2].startswith("the database does not answer")
        assert client.get("/v1/health/live").json() == {"status": "alive"}
