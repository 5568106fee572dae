"""Bad bytes are refused on every store alike: a NUL or another control character in an id, an actor, a note, a
text or a filter gets a 422 naming the field, on SQLite and on PostgreSQL (which cannot store a NUL at all, and
answered 500 before), and nothing is kept. The console shows the problem on a page, never a 500."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain.accounts import Actor, Role
from copilot.pipeline import ingest
from copilot.services import Services, build_services, load_triage_model
from copilot.settings import Settings
from copilot.store.tickets import QueueFilter
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.databases import postgres_reason, postgres_schema
from tests.factories import api_key, make_settings

pytestmark = pytest.mark.integration

PAYOUT = "my withdrawal from oct 3 still has not arrived"
PASSWORD = "a-long-password"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def services_on(
    request: pytest.FixtureRequest,
    ready: Services,
    embeddings: LocalMiniLMEmbeddings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Services]:
    """Services over a copy of the session's index and model, with the records in a new SQLite file or a new
    PostgreSQL schema."""
    data = tmp_path_factory.mktemp(f"bad-bytes-{request.param}")
    shutil.copytree(ready.settings.resolved_chroma_path, data / "chroma")
    shutil.copytree(ready.settings.models_dir, data / "models")
    if request.param == "sqlite":
        yield from _services(make_settings(data), embeddings)
        return
    if reason := postgres_reason():
        pytest.skip(reason)
    with postgres_schema() as url:
        yield from _services(make_settings(data, database_url=url), embeddings)


def _services(settings: Settings, embeddings: LocalMiniLMEmbeddings) -> Iterator[Services]:
    services = build_services(settings, embeddings=embeddings)
    ingest(services)  # the copied index is current: this only keeps the published versions in this database
    load_triage_model(services, train_if_missing=False)
    yield services
    services.store.close()


@pytest.fixture(scope="module")
def client(services_on: Services) -> Iterator[TestClient]:
    app = create_app(services=services_on)
    with TestClient(app, headers={"X-API-Key": api_key(services_on, Role.ADMIN)}) as admin:
        yield admin


@pytest.fixture(scope="module")
def draft_id(client: TestClient) -> str:
    response = client.post("/v1/suggest", json={"text": PAYOUT, "helpdesk_id": f"HD-{uuid.uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def refused(response: object, field: str) -> None:
    """A 422 whose answer names the field (FastAPI's list of problems, or our one-line detail)."""
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert field in text, text
    assert re.search(r"U\+00[0-9A-F]{2}|U\+D[89A-F][0-9A-F]{2}", text), (
        f"the answer does not say which character: {text}"
    )


def counts(services: Services) -> tuple[int, int]:
    """Tickets kept and audit entries written: what a refused request must not change."""
    return len(services.tickets.queue(QueueFilter(status=None), limit=100_000)), len(
        services.audit.entries(limit=100_000)
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "my payout\x00 is missing"}, "text"),
        ({"text": "my payout is late \x1b[31m"}, "text"),
        ({"text": "mis-decoded cp1252: it\x92s late"}, "text"),  # a C1 control
        ({"text": PAYOUT, "creator_handle": "mila\x00"}, "creator_handle"),
        ({"text": PAYOUT, "helpdesk_id": "HD-1\x00"}, "helpdesk_id"),
        ({"text": PAYOUT, "helpdesk_id": "HD-1\nforged"}, "helpdesk_id"),  # an id is one line
    ],
    ids=["nul-in-text", "escape-in-text", "c1-in-text", "nul-in-handle", "nul-in-helpdesk-id", "newline-in-id"],
)
def test_a_ticket_with_a_control_character_is_refused_naming_the_field(
    client: TestClient, services_on: Services, body: dict[str, str], field: str
) -> None:
    before = counts(services_on)
    for route in ("/v1/triage", "/v1/suggest"):
        refused(client.post(route, json=body), field)
    assert counts(services_on) == before


def test_a_lone_surrogate_is_refused_like_a_control_character(client: TestClient) -> None:
    raw = b'{"text": "my payout \\ud800 is missing"}'  # valid JSON, but no UTF-8 can encode the character
    refused(client.post("/v1/triage", content=raw, headers={"content-type": "application/json"}), "text")


def test_tabs_and_line_breaks_in_a_ticket_are_kept(client: TestClient) -> None:
    text = "Hello,\r\n\tmy payout from oct 3\nstill has not arrived."
    response = client.post("/v1/triage", json={"text": text, "helpdesk_id": f"HD-{uuid.uuid4().hex[:8]}"})
    assert response.status_code == 200, response.text
    kept = client.get(f"/v1/tickets/{response.json()['ticket_id']}").json()
    assert kept["text"] == text


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/tickets/TKT-1%00", "ticket_id"),
        ("/v1/tickets/TKT-1%00/drafts", "ticket_id"),
        ("/v1/drafts/DRF-1%00", "draft_id"),
        ("/v1/drafts/DRF-1%0Aforged/history", "draft_id"),
        ("/v1/triage/jobs/JOB-%00", "job_id"),
        ("/v1/kb/documents/SOP%00/versions/1.0.0", "doc_id"),
    ],
)
def test_an_id_in_the_path_with_a_control_character_is_refused_naming_it(
    client: TestClient, path: str, field: str
) -> None:
    refused(client.get(path), field)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/audit", {"actor": "admin\x00"}, "actor"),
        ("/v1/audit", {"target": "TKT\x00"}, "target"),
        ("/v1/tickets", {"lob": "creator_rewards\x00"}, "lob"),
        ("/v1/kb/search", {"q": "payout\x00"}, "q"),
    ],
)
def test_a_query_parameter_with_a_control_character_is_refused_naming_it(
    client: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    refused(client.get(path, params=params), field)


@pytest.mark.parametrize(
    ("decision", "field"),
    [
        ({"kind": "approve", "note": "sent \x00 twice"}, "note"),
        ({"kind": "edit", "final_text": "Hi,\x00 your payout is on its way."}, "final_text"),
        ({"kind": "reject", "reason": "tone", "note": "\x07"}, "note"),
    ],
)
def test_a_decision_with_a_control_character_is_refused_and_the_draft_stays_pending(
    client: TestClient, services_on: Services, draft_id: str, decision: dict[str, str], field: str
) -> None:
    before = counts(services_on)
    refused(client.post(f"/v1/drafts/{draft_id}/decision", json=decision), field)
    assert client.get(f"/v1/drafts/{draft_id}").json()["status"] == "pending"
    assert client.get(f"/v1/drafts/{draft_id}/history").json() == []
    assert counts(services_on) == before


def test_an_account_or_key_name_with_a_control_character_is_refused(client: TestClient) -> None:
    refused(client.post("/v1/users", json={"name": "mar\x00ia", "role": "qa", "password": PASSWORD}), "name")
    refused(client.post("/v1/keys", json={"name": "helpdesk\nforged"}), "name")


def test_the_console_shows_a_page_naming_the_field_not_a_500(client: TestClient, services_on: Services) -> None:
    console = TestClient(client.app, follow_redirects=False)
    signed_in = console.post("/console/login", data={"username": "adm\x00in", "password": PASSWORD})
    assert signed_in.status_code == 422, signed_in.text[:300]
    assert "username" in signed_in.text and "U+0000" in signed_in.text

    name = f"spec-{uuid.uuid4().hex[:6]}"
    services_on.accounts.add_user(name, Role.SPECIALIST, PASSWORD, by=Actor.operator("tests"))
    assert console.post("/console/login", data={"username": name, "password": PASSWORD}).status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', console.get("/console/tickets/new").text)
    assert token
    before = counts(services_on)
    for form, field in (
        ({"text": "my payout\x00 is late"}, "text"),
        ({"text": PAYOUT, "helpdesk_id": "HD\x01"}, "helpdesk"),
        ({"text": PAYOUT, "helpdesk_id": "HD-1\nforged"}, "helpdesk id"),
    ):
        page = console.post("/console/tickets", data={**form, "csrf_token": token.group(1)})
        assert page.status_code == 422, page.text[:300]
        assert "text/html" in page.headers["content-type"]
        assert field in page.text and "U+00" in page.text
    assert counts(services_on) == before
