"""The SOP workbench over HTTP, on services of their own over a copy of part of the library: list, open, check as
typed, save, diff, publish (gate and version rules), roll back, retire; who may do which."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain.accounts import Role
from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import api_key, workbench_services

pytestmark = pytest.mark.integration


@pytest.fixture
def bench(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> Iterator[Services]:
    services = workbench_services(tmp_path, embeddings)
    yield services
    services.store.close()


@pytest.fixture
def clients(bench: Services) -> Iterator[dict[Role, TestClient]]:
    app = create_app(services=bench)
    with TestClient(app) as client:
        yield {
            role: TestClient(client.app, headers={"X-API-Key": api_key(bench, role)})
            for role in (Role.SOP_WRITER, Role.QA, Role.SPECIALIST)
        }


def raised(text: str, old: str, new: str) -> str:
    return text.replace(f"version: {old}", f"version: {new}", 1).replace(
        "## Never say or promise", "10. Confirm the trace reference with the creator.\n\n## Never say or promise", 1
    )


def test_a_writer_checks_saves_diffs_and_publishes_and_old_citations_still_open(
    clients: dict[Role, TestClient],
) -> None:
    writer, qa = clients[Role.SOP_WRITER], clients[Role.QA]
    listed = {d["id"]: d for d in qa.get("/v1/kb/documents").json()}
    assert listed["SOP-CR-03"]["version"] == "1.0.2" and listed["SOP-CR-03"]["last_reviewed"] is None
    assert listed["SOP-CR-03"]["kept_versions"] == ["1.0.2"] and listed["SOP-CR-03"]["owner"] == "payments-ops"
    document = qa.get("/v1/kb/documents/SOP-CR-03").json()
    text = document["text"]
    assert [v["version"] for v in document["versions"]] == ["1.0.2"] and document["revisions"] == []

    bad = text.replace("tier: T1", "tier: T7")
    checked = writer.post("/v1/kb/check", json={"doc_id": "SOP-CR-03", "text": bad}).json()
    assert checked["ok"] is False
    [problem] = checked["problems"]
    assert problem["field"] == "tier" and bad.splitlines()[problem["line"] - 1] == "tier: T7"
    refused = writer.post("/v1/kb/documents/SOP-CR-03/revisions", json={"text": bad})
    assert refused.status_code == 422 and refused.json()["problems"][0]["line"] == problem["line"]

    unchanged = writer.post("/v1/kb/check", json={"doc_id": "SOP-CR-03", "text": text}).json()
    assert unchanged["ok"] is True
    [version] = [w for w in unchanged["warnings"] if w["field"] == "version"]  # not raised: publishing refuses it
    assert version["message"] == "1.0.2 is not above the published version 1.0.2" and version["line"] == 8

    saved = writer.post("/v1/kb/documents/SOP-CR-03/revisions", json={"text": raised(text, "1.0.2", "1.1.0")})
    assert saved.status_code == 201, saved.text
    revision = saved.json()
    assert revision["status"] == "draft" and revision["base_version"] == "1.0.2"
    assert qa.get(f"/v1/kb/revisions/{revision['id']}").json()["text"] == revision["text"]
    diff = qa.get(f"/v1/kb/revisions/{revision['id']}/diff").json()
    assert "-version: 1.0.2" in diff["unified"] and "+version: 1.1.0" in diff["unified"]
    assert {"kind": "changed", "old_line": 8, "old": "version: 1.0.2", "new_line": 8, "new": "version: 1.1.0"} in diff[
        "rows"
    ]

    gate = writer.post(f"/v1/kb/revisions/{revision['id']}/publish", json={})
    assert gate.status_code == 409 and "impact preview has not been run" in gate.json()["detail"]
    done = writer.post(f"/v1/kb/revisions/{revision['id']}/publish", json={"override_reason": "wording only"})
    assert done.status_code == 200, done.text
    assert done.json()["version"] == "1.1.0" and done.json()["ingest"]["updated"] == ["SOP-CR-03"]
    assert done.json()["revision"]["override_reason"] == "wording only"

    old = qa.get("/v1/kb/documents/SOP-CR-03/versions/1.0.2")  # an old draft's citation opens the old text
    assert old.status_code == 200 and old.json()["text"] == text
    again = writer.post(f"/v1/kb/revisions/{revision['id']}/publish", json={"override_reason": "twice"})
    assert again.status_code == 409


def test_publishing_refuses_a_version_that_did_not_go_up_naming_both(clients: dict[Role, TestClient]) -> None:
    writer = clients[Role.SOP_WRITER]
    text = writer.get("/v1/kb/documents/SOP-CR-04").json()["text"]
    revision = writer.post("/v1/kb/documents/SOP-CR-04/revisions", json={"text": raised(text, "1.0.0", "0.9.0")})
    assert revision.status_code == 201

    refused = writer.post(f"/v1/kb/revisions/{revision.json()['id']}/publish", json={"override_reason": "go"})

    assert refused.status_code == 409
    assert "version 0.9.0" in refused.json()["detail"] and "published version 1.0.0" in refused.json()["detail"]
    discarded = writer.post(f"/v1/kb/revisions/{revision.json()['id']}/discard")
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"


def test_rollback_and_retire_with_its_referrers_listed_first(clients: dict[Role, TestClient]) -> None:
    writer, qa = clients[Role.SOP_WRITER], clients[Role.QA]
    text = writer.get("/v1/kb/documents/SOP-CR-05").json()["text"]
    revision = writer.post("/v1/kb/documents/SOP-CR-05/revisions", json={"text": raised(text, "1.0.0", "1.1.0")})
    writer.post(f"/v1/kb/revisions/{revision.json()['id']}/publish", json={"override_reason": "step"})

    back = writer.post("/v1/kb/documents/SOP-CR-05/rollback", json={"version": "1.0.0"})
    assert back.status_code == 200 and back.json()["version"] == "1.1.1"
    assert writer.post("/v1/kb/documents/SOP-CR-05/rollback", json={"version": "0.1.0"}).status_code == 404

    asked = writer.post("/v1/kb/documents/SOP-CR-05/retire", json={})
    assert asked.status_code == 409
    assert [r["doc_id"] for r in asked.json()["referrers"]] == ["SOP-CR-03", "SOP-CR-04"]
    retired = writer.post("/v1/kb/documents/SOP-CR-05/retire", json={"confirm": True})
    assert retired.status_code == 200 and retired.json()["published"]["version"] == "1.1.2"
    listed = {d["id"]: d for d in qa.get("/v1/kb/documents").json()}
    assert listed["SOP-CR-05"]["status"] == "retired" and listed["SOP-CR-05"]["in_force"] is False


def test_unknown_documents_and_revisions_are_404_and_only_writers_write(clients: dict[Role, TestClient]) -> None:
    writer, qa, specialist = clients[Role.SOP_WRITER], clients[Role.QA], clients[Role.SPECIALIST]
    assert writer.get("/v1/kb/documents/SOP-XX-01").status_code == 404
    assert writer.get("/v1/kb/revisions/9999").status_code == 404
    assert writer.post("/v1/kb/revisions/9999/publish", json={"override_reason": "x"}).status_code == 404
    assert writer.post("/v1/kb/documents/SOP-XX-01/retire", json={"confirm": True}).status_code == 404
    text = writer.get("/v1/kb/documents/SOP-CR-03").json()["text"]
    assert qa.post("/v1/kb/documents/SOP-CR-03/revisions", json={"text": text}).status_code == 403
    assert specialist.get("/v1/kb/documents").status_code == 403
    traversal = writer.post("/v1/kb/documents/..%2FSOP-CR-03/revisions", json={"text": text})
    assert traversal.status_code in (404, 422)
