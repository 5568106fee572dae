"""A records database for each backend, for the stores' contract tests: a SQLite file, and a schema of its own on
the PostgreSQL server when it is reachable (other tests share that server's database, so nothing here touches
its other schemas)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from copilot.services import Services
from tests.databases import postgres_reason, postgres_schema
from tests.factories import library_copy


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database's URL: a new SQLite file, or a new PostgreSQL schema (dropped afterwards) that the URL
    puts first on the search path, so every table, alembic_version included, is made and found there."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'copilot.db'}"
        return
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    with postgres_schema() as url:
        yield url


@pytest.fixture
def own_library(ready: Services, embeddings: Embeddings, tmp_path: Path) -> Iterator[Services]:
    """Services over a copy of the SOP folder, the session's index and its triage model."""
    services = library_copy(ready, tmp_path, embeddings)
    yield services
    services.store.close()
