"""Fixtures of the API tests: the app over an LLM writer whose chat model times out, and real uvicorn
processes serving the app over a copy of the session's data (index, trained model, ONNX export) with an admin
API key made in their database."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain.accounts import Role
from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import writer_with
from tests.servers import Servers


@pytest.fixture
def fallback_client(ready: Services, api_keys: dict[Role, str]) -> Iterator[TestClient]:
    """The app over the session's services, but drafting with a chat model that times out every time; calling
    as an admin."""
    writer, _ = writer_with(ready, *[TimeoutError("the chat model did not answer")] * 20)
    app = create_app(services=dataclasses.replace(ready, writer=writer))
    with TestClient(app, headers={"X-API-Key": api_keys[Role.ADMIN]}) as test_client:
        yield test_client


@pytest.fixture
def start_server(ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path) -> Iterator[Servers]:
    """Starts uvicorn processes over one copy of the session's data (see tests.servers.Servers); extra
    environment variables are passed on. Every process started is stopped at the end."""
    servers = Servers(ready, embeddings, tmp_path)
    yield servers
    servers.stop()
