"""Fixtures of the fault tests: real server processes over a copy of the session's data (see tests.servers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.servers import Servers


@pytest.fixture
def servers(ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path) -> Iterator[Servers]:
    """Starts uvicorn processes over one copy of the session's data, all on its one SQLite database; every
    process started is stopped at the end (one killed already is only reaped)."""
    started = Servers(ready, embeddings, tmp_path)
    yield started
    for server in started.started:
        if server.process.poll() is None:
            server.process.terminate()
    for server in started.started:
        server.process.wait(timeout=30)
