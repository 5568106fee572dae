"""The real FastAPI app through its test client: every verb, and clear 4xx errors for bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain.accounts import Role
from copilot.domain.drafts import Problem, ProblemKind, new_draft_id
from copilot.services import Services
from copilot.store.tables import drafts, transitions

pytestmark = pytest.mark.integration

PAYOUT = {
    "text": "my withdrawal of $120 from oct 3 still hasn't arrived, it's been 2 weeks",
    "creator_handle": "mila.bakes",
}


def test_health_names_the_model_the_embedder_and_the_index_size(client: TestClient) -> None:
    body = client.get("/v1/health").json()
    assert body["status"] == "ok"
    assert body["documents"] >= 33 and body["chunks"] > body["documents"]
    assert body["triage_model"].startswith("triage-") and "MiniLM" in body["embedder"]


def test_triage_labels_a_ticket(client: TestClient) -> None:
    response = client.post("/v1/triage", json=PAYOUT)
    assert response.status_code == 200
    body = response.json()
    assert (body["lob"], body["intent"], body["priority"]) == ("creator_rewards", "payout_missing", "P2")
    assert body["routing"] in {"auto", "suggest", "human"}
    angry = client.post("/v1/triage", json={"text": "WORST support ever. Furious. Where is my money?!"}).json()
    assert angry["sentiment"] == "negative" and angry["sentiment_score"] < 0


def test_suggest_then_read_then_approve_a_draft(client: TestClient, api_keys: dict[Role, str]) -> None:
    created = client.post("/v1/suggest", json=PAYOUT)
    assert created.status_code == 201
    draft = created.json()
    assert draft["status"] == "pending" and draft["citations"]
    assert client.get(f"/v1/drafts/{draft['id']}").json() == draft
    specialist = {"X-API-Key": api_keys[Role.SPECIALIST]}
    decided = client.post(f"/v1/drafts/{draft['id']}/decision", json={"kind": "approve"}, headers=specialist)
    assert decided.status_code == 201
    assert decided.json()["sop_versions"] == {c["doc_id"]: c["doc_version"] for c in draft["citations"]}
    assert client.get(f"/v1/drafts/{draft['id']}").json()["status"] == "approved"
    assert [t["actor"] for t in client.get(f"/v1/drafts/{draft['id']}/history").json()] == ["key:tests-specialist"]


def test_a_draft_that_failed_verification_carries_its_problems_as_typed_objects(client: TestClient) -> None:
    store = client.app.state.services.store  # type: ignore[attr-defined]
    made = store.get(client.post("/v1/suggest", json=PAYOUT).json()["id"])
    problem = Problem(
        kind=ProblemKind.UNGROUNDED_FIGURE,
        detail="states 47, which no cited passage and not the ticket states",
        figure="47",
    )
    flawed = store.save(made.model_copy(update={"id": new_draft_id(), "problems": [problem]}))
    body = client.get(f"/v1/drafts/{flawed.id}").json()
    assert body["problems"] == [
        {
            "kind": "ungrounded_figure",
            "detail": "states 47, which no cited passage and not the ticket states",
            "citation": None,
            "figure": "47",
        }
    ]
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["Problem"]["properties"]) == {"kind", "detail", "citation", "figure"}


def test_a_second_decision_is_a_conflict_and_changes_nothing(client: TestClient) -> None:
    draft = client.post("/v1/suggest", json=PAYOUT).json()
    reject = {"kind": "reject", "reason": "wrong_policy", "note": "needs CR-04"}
    assert client.post(f"/v1/drafts/{draft['id']}/decision", json=reject).status_code == 201
    again = client.post(f"/v1/drafts/{draft['id']}/decision", json={"kind": "approve"})
    assert again.status_code == 409
    assert "already rejected" in again.json()["detail"]
    assert client.get(f"/v1/drafts/{draft['id']}").json()["status"] == "rejected"


def test_an_edit_is_kept_as_final_text_and_diff(client: TestClient) -> None:
    draft = client.post("/v1/suggest", json=PAYOUT).json()
    edited = (draft["reply"] or "") + "\nP.S. Your reference is WD-5521."
    body = client.post(f"/v1/drafts/{draft['id']}/decision", json={"kind": "edit", "final_text": edited}).json()
    assert body["final_text"] == edited and "+P.S. Your reference is WD-5521." in body["diff"]


def test_bad_input_gets_a_clear_4xx(client: TestClient) -> None:
    empty = client.post("/v1/suggest", json={"text": "   "})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    huge = client.post("/v1/suggest", json={"text": "a" * 100_000})
    assert huge.status_code == 413 and "limit" in huge.json()["detail"]
    unknown = client.get("/v1/drafts/DRF-doesnotexist")
    assert unknown.status_code == 404 and "DRF-doesnotexist" in unknown.json()["detail"]
    no_reason = client.post("/v1/drafts/DRF-doesnotexist/decision", json={"kind": "reject"})
    assert no_reason.status_code == 422
    bad_lob = client.get("/v1/kb/search", params={"q": "payout", "lob": "crypto"})
    assert bad_lob.status_code == 422 and "unknown LOB 'crypto'" in bad_lob.json()["detail"]


def test_rejected_input_stores_nothing(client: TestClient) -> None:
    engine = client.app.state.services.store.engine  # type: ignore[attr-defined]

    def rows() -> tuple[int, int]:
        with engine.connect() as conn:
            return (
                conn.execute(sa.select(sa.func.count()).select_from(drafts)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(transitions)).scalar_one(),
            )

    before = rows()
    assert client.post("/v1/drafts/DRF-doesnotexist/decision", json={"kind": "approve"}).status_code == 404
    assert client.post("/v1/suggest", json={"text": ""}).status_code == 422
    assert client.post("/v1/suggest", json={"text": "x" * 100_000}).status_code == 413
    assert rows() == before


def test_knowledge_base_search_and_idempotent_ingest(client: TestClient) -> None:
    hits = client.get("/v1/kb/search", params={"q": "how long do strikes last", "k": 3}).json()["passages"]
    assert len(hits) == 3 and any(h["doc_id"] in {"SOP-AS-03", "POL-APPEALS"} for h in hits)
    report = client.post("/v1/kb/ingest").json()
    assert report["added"] == report["updated"] == report["removed"] == []
    assert len(report["unchanged"]) == report["documents_indexed"]


def test_the_docs_page_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/v1/triage",
        "/v1/suggest",
        "/v1/drafts/{draft_id}",
        "/v1/drafts/{draft_id}/decision",
        "/v1/kb/search",
        "/v1/kb/ingest",
        "/v1/health",
    } <= set(paths)


def test_batch_triage_labels_good_tickets_and_lists_the_bad(client: TestClient) -> None:
    tickets = [PAYOUT, {"text": "   "}, {"text": "y" * 30_000}, {"text": "how do I set up subscriptions for fans?"}]
    body = client.post("/v1/triage/batch", json={"tickets": tickets}).json()
    assert [s["index"] for s in body["skipped"]] == [1, 2]
    assert "empty" in body["skipped"][0]["detail"] and "limit" in body["skipped"][1]["detail"]
    assert [r["intent"] for r in body["results"]] == ["payout_missing", "subscription_setup"]
    single = client.post("/v1/triage", json=PAYOUT).json()
    assert (body["results"][0]["intent"], body["results"][0]["confidence"]) == (single["intent"], single["confidence"])


def test_an_unknown_lob_in_a_search_is_a_422_naming_the_valid_lobs(client: TestClient) -> None:
    response = client.get("/v1/kb/search", params={"q": "payout", "lob": "crypto"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "unknown LOB 'crypto'" in detail
    taxonomy = client.app.state.services.taxonomy  # type: ignore[attr-defined]
    assert all(lob in detail for lob in taxonomy.lobs)


def test_a_bare_value_error_is_a_server_error_not_the_clients(ready: Services) -> None:
    app = create_app(services=ready)

    @app.get("/v1/boom")
    def boom() -> None:
        raise ValueError("a bug in the service")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/v1/boom").status_code == 500
