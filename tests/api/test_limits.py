"""Bounded work per request: a body over its limit is refused with 413 before it is read in full, a batch over its
count or characters limit with 413 naming the limit, and callers beyond their rate with 429 and Retry-After. Each
test gives the real app tiny limits of its own, so none depends on timing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain.accounts import Role
from copilot.services import Services
from tests.factories import api_key

pytestmark = pytest.mark.integration

PAYOUT = "my withdrawal from oct 3 still has not arrived"


def app_with(ready: Services, **limits: Any) -> TestClient:
    """The real app over the session's services, with these settings changed."""
    services = dataclasses.replace(ready, settings=ready.settings.model_copy(update=limits))
    return TestClient(create_app(services=services))


@pytest.fixture
def admin(api_keys: dict[Role, str]) -> dict[str, str]:
    return {"X-API-Key": api_keys[Role.ADMIN]}


def test_a_body_over_the_limit_is_refused_with_413_naming_it(ready: Services, admin: dict[str, str]) -> None:
    with app_with(ready, max_body_bytes=2048) as client:
        small = client.post("/v1/triage", json={"text": PAYOUT}, headers=admin)
        assert small.status_code == 200, small.text
        big = client.post("/v1/triage", json={"text": "payout " * 400}, headers=admin)
        assert big.status_code == 413
        assert "max_body_bytes" in big.json()["detail"] and "2048" in big.json()["detail"]


def test_a_chunked_body_is_refused_once_it_passes_the_limit(ready: Services, admin: dict[str, str]) -> None:
    """No Content-Length to go by: the bytes are counted as they arrive."""
    body = json.dumps({"text": "payout " * 400}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 256):
            yield body[start : start + 256]

    with app_with(ready, max_body_bytes=2048) as client:
        response = client.post("/v1/triage", content=chunks(), headers={**admin, "content-type": "application/json"})
    assert response.status_code == 413
    assert "max_body_bytes" in response.json()["detail"]


def test_a_backlog_upload_has_its_own_limit(ready: Services, admin: dict[str, str]) -> None:
    line = json.dumps({"id": "BL-1", "text": PAYOUT}) + "\n"
    with app_with(ready, max_body_bytes=1024, max_upload_bytes=4096) as client:
        fits = client.post("/v1/triage/jobs", files={"file": ("b.jsonl", line.encode() * 10)}, headers=admin)
        assert fits.status_code == 202, fits.text  # over max_body_bytes, within max_upload_bytes
        big = client.post("/v1/triage/jobs", files={"file": ("b.jsonl", line.encode() * 100)}, headers=admin)
    assert big.status_code == 413
    assert "max_upload_bytes" in big.json()["detail"]


def test_a_batch_over_the_count_limit_is_refused_whole(ready: Services, admin: dict[str, str]) -> None:
    with app_with(ready, max_batch_tickets=3) as client:
        three = client.post("/v1/triage/batch", json={"tickets": [{"text": PAYOUT}] * 3}, headers=admin)
        assert three.status_code == 200 and len(three.json()["results"]) == 3
        four = client.post("/v1/triage/batch", json={"tickets": [{"text": PAYOUT}] * 4}, headers=admin)
    assert four.status_code == 413
    assert "4 tickets" in four.json()["detail"] and "max_batch_tickets" in four.json()["detail"]


def test_a_batch_over_the_characters_limit_is_refused_whole(ready: Services, admin: dict[str, str]) -> None:
    with app_with(ready, max_batch_chars=100) as client:
        fits = client.post(
            "/v1/triage/batch", json={"tickets": [{"text": PAYOUT}, {"text": "where is my payout"}]}, headers=admin
        )
        assert fits.status_code == 200, fits.text
        over = client.post("/v1/triage/batch", json={"tickets": [{"text": PAYOUT}] * 3}, headers=admin)
    assert over.status_code == 413
    detail = over.json()["detail"]
    assert f"{3 * len(PAYOUT)} characters" in detail and "max_batch_chars" in detail


def test_a_principal_over_its_rate_gets_429_with_retry_after(ready: Services, api_keys: dict[Role, str]) -> None:
    with app_with(ready, rate_limit_per_principal=2) as client:
        first = {"X-API-Key": api_keys[Role.QA]}
        assert [client.get("/v1/me", headers=first).status_code for _ in range(2)] == [200, 200]
        limited = client.get("/v1/me", headers=first)
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert "2 a minute" in limited.json()["detail"]
        # Another principal from the same address has its own allowance.
        assert client.get("/v1/me", headers={"X-API-Key": api_keys[Role.SPECIALIST]}).status_code == 200


def test_an_address_over_its_rate_gets_429_but_health_probes_do_not_count(ready: Services) -> None:
    key = {"X-API-Key": api_key(ready, Role.SERVICE)}
    with app_with(ready, rate_limit_per_address=3) as client:
        for _ in range(10):
            assert client.get("/v1/health/live").status_code == 200
        assert [client.get("/v1/me", headers=key).status_code for _ in range(3)] == [200, 200, 200]
        anonymous = client.get("/console/login")  # nobody signed in: the address is all there is to count
        assert anonymous.status_code == 429
        assert int(anonymous.headers["Retry-After"]) >= 1
        assert "a minute" in anonymous.json()["detail"]
        assert client.get("/v1/health/ready").status_code in (200, 503)  # answered, not limited


def test_a_whitespace_only_search_is_refused_like_a_whitespace_only_ticket(client: TestClient) -> None:
    search = client.get("/v1/kb/search", params={"q": " \t "})
    assert search.status_code == 422
    assert search.json()["detail"] == "query.q: is empty or only whitespace"
    assert client.post("/v1/triage", json={"text": " \t "}).status_code == 422
