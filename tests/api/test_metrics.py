"""/metrics: what the service did, in Prometheus text, counted where the API knows the result; with several
worker processes, the sum of all of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from copilot.services import Services

pytestmark = pytest.mark.integration

PAYOUT = {"text": "my withdrawal of $120 from oct 3 still hasn't arrived, it's been 2 weeks"}


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when there is none)."""
    return sum(v for n, found, v in samples(text) if n == name and labels.items() <= found.items())


def scrape(client: TestClient | httpx.Client, base: str = "") -> str:
    response = client.get(f"{base}/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return response.text


def test_triage_suggestions_and_decisions_are_counted_with_their_labels(client: TestClient) -> None:
    before = scrape(client)
    triage = client.post("/v1/triage", json=PAYOUT).json()
    draft = client.post("/v1/suggest", json=PAYOUT).json()
    reject = {"kind": "reject", "reason": "tone"}
    assert client.post(f"/v1/drafts/{draft['id']}/decision", json=reject).status_code == 201
    batch = client.post("/v1/triage/batch", json={"tickets": [PAYOUT, {"text": " "}, PAYOUT]}).json()
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert triage["lob"] == "creator_rewards" and len(batch["results"]) == 2
    assert grew("copilot_triage_results_total", routing=triage["routing"], lob="creator_rewards") == 3
    assert grew("copilot_triage_results_total") == 3, "the skipped ticket is not a triage result"
    assert grew("copilot_suggestions_total", action=draft["action"]) == 1
    assert grew("copilot_suggestions_total") == 1
    assert grew("copilot_decisions_total", kind="reject", reason="tone") == 1
    assert grew("copilot_decisions_total") == 1
    assert grew("copilot_llm_writer_fallbacks_total") == 0, "the template writer is not a fallback"
    suggest = {"method": "POST", "route": "/v1/suggest", "status": "201"}
    assert grew("copilot_http_requests_total", **suggest) == 1
    assert grew("copilot_http_request_duration_seconds_count", **suggest) == 1
    assert grew("copilot_http_request_duration_seconds_sum", **suggest) > 0
    decision = {"method": "POST", "route": "/v1/drafts/{draft_id}/decision", "status": "201"}
    assert grew("copilot_http_requests_total", **decision) == 1
    assert not any(draft["id"] in labels.get("route", "") for _, labels, _ in samples(after))


def test_index_size_library_and_versions_are_reported(client: TestClient, ready: Services) -> None:
    text = scrape(client)
    assert value(text, "copilot_index_chunks") == ready.index.count() > 0
    assert value(text, "copilot_library_documents") == len(ready.library.active()) >= 33
    [(_, info, one)] = [s for s in samples(text) if s[0] == "copilot_model_info"]
    assert one == 1
    assert info == {
        "triage_model": ready.require_classifier().version,
        "taxonomy": ready.taxonomy.version,
        "embedder": ready.embedder_version,
        "writer": ready.writer.version,
    }


def test_a_chat_model_failure_is_counted_as_a_fallback(fallback_client: TestClient) -> None:
    draft = fallback_client.post("/v1/suggest", json=PAYOUT).json()
    assert draft["action"] == "reply" and draft["writer"] == "template"
    assert value(scrape(fallback_client), "copilot_llm_writer_fallbacks_total") == 1


def test_worker_processes_add_up_in_multiprocess_mode(
    start_server: Callable[..., Any], ready: Services, tmp_path: Path
) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    workers = []
    for _ in range(2):  # one after the other: the first creates the database's tables, which is no race
        workers.append(start_server(PROMETHEUS_MULTIPROC_DIR=str(shared), COPILOT_LOG_FORMAT="json"))
        workers[-1].wait_until_up()
    first, second = workers
    for worker, tickets in ((first, 2), (second, 3)):
        for _ in range(tickets):
            triaged = httpx.post(f"{worker.base}/v1/triage", json=PAYOUT, headers=worker.headers, timeout=60)
            assert triaged.status_code == 200
    triage = {"method": "POST", "route": "/v1/triage", "status": "200"}
    for worker in workers:
        text = scrape(httpx.Client(headers=worker.headers), worker.base)
        assert value(text, "copilot_http_requests_total", **triage) == 5
        assert value(text, "copilot_triage_results_total", lob="creator_rewards") == 5
        assert value(text, "copilot_index_chunks") == ready.index.count(), "a gauge is not summed over workers"
        assert [v for n, _, v in samples(text) if n == "copilot_model_info"] == [1]

    # Each process logged its own requests, one JSON line each with an id, and uvicorn's access log is off.
    lines = [json.loads(line) for line in first.log.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "api.requests" and line["route"] == "/v1/triage"]
    assert len(requests) == 2 and all(len(line["request_id"]) == 32 for line in requests)
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    assert "/v1/triage HTTP/1.1" not in first.log.read_text()
