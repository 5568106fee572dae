"""Bad credentials and bad writes get a clear 4xx naming the problem, and nothing stored changes: a wrong password,
too many of them, an expired session, a revoked key, a console write without its CSRF token, a second decision,
an unknown ticket, a label the taxonomy does not hold, a decision naming its own actor. Who a write is recorded
as is always the caller: the key's or the person's name, never a name in the body."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import CSRF_HEADER, SESSION_COOKIE
from copilot.domain.accounts import Actor, Role
from copilot.domain.records import AuditAction
from copilot.services import Services, build_services
from copilot.store.tables import sessions
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import make_settings

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
MAX_FAILURES = 3
OPERATOR = Actor.operator("tests")
PAYOUT = {"text": "my withdrawal of $120 from oct 3 still hasn't arrived, it's been 2 weeks"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def browser(app: FastAPI) -> TestClient:
    """A person's browser: no key, a cookie jar, redirects shown rather than followed, and an address of its own
    so that failed sign-ins here never throttle another test's."""
    return TestClient(app, follow_redirects=False, client=(unique("browser"), 50000))


def sign_in(person: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    response = person.post("/console/login", data={"username": name, "password": password, "next": "/console"})
    assert response.status_code == 303, response.text
    return person


def session_rows(services: Services, name: str) -> int:
    with services.store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(sessions.c.user_name == name)).scalar_one())


def person(services: Services, role: Role = Role.SPECIALIST) -> str:
    return services.accounts.add_user(unique("person"), role, PASSWORD, by=OPERATOR).name


# Signing in, on an app of its own with a small failure limit: the shared app's limit is left to the others.


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, embeddings: LocalMiniLMEmbeddings) -> Iterator[Services]:
    """Services over an empty data dir that refuse sign-in after MAX_FAILURES failures (nothing is ingested or
    trained: signing in needs neither)."""
    settings = make_settings(tmp_path_factory.mktemp("guarded"), login_max_failures=MAX_FAILURES)
    services = build_services(settings, embeddings=embeddings)
    yield services
    services.store.close()


@pytest.fixture(scope="module")
def guarded_app(guarded: Services) -> FastAPI:
    return create_app(services=guarded)


def test_a_wrong_password_is_refused_audited_and_opens_no_session(guarded: Services, guarded_app: FastAPI) -> None:
    name = person(guarded)
    with browser(guarded_app) as someone:
        refused = someone.post("/console/login", data={"username": name, "password": "not the password"})
        assert refused.status_code == 401
        assert "Wrong user name or password" in refused.text and 'name="password"' in refused.text
        assert SESSION_COOKIE not in refused.cookies and "set-cookie" not in refused.headers
        assert someone.get("/v1/me").status_code == 401
    assert session_rows(guarded, name) == 0
    [failure] = guarded.audit.entries(action=AuditAction.SIGN_IN_FAILED, target=name)
    assert failure.actor == name and failure.address and failure.address.startswith("browser-")
    assert "not the password" not in failure.model_dump_json()


def test_failed_sign_ins_are_throttled_even_with_the_right_password(guarded: Services, guarded_app: FastAPI) -> None:
    name = person(guarded)
    with browser(guarded_app) as someone:
        for _ in range(MAX_FAILURES):
            assert someone.post("/console/login", data={"username": name, "password": "guess-guess"}).status_code == 401
        throttled = someone.post("/console/login", data={"username": name, "password": PASSWORD})
    assert throttled.status_code == 429
    assert "too many failed sign-ins" in throttled.text
    window_s = guarded.settings.login_window_minutes * 60
    assert 0 < int(throttled.headers["Retry-After"]) <= window_s + 1
    assert "set-cookie" not in throttled.headers and session_rows(guarded, name) == 0
    with browser(guarded_app) as elsewhere:  # the name is held back from any address
        assert elsewhere.post("/console/login", data={"username": name, "password": PASSWORD}).status_code == 429
    assert len(guarded.audit.entries(action=AuditAction.SIGN_IN_FAILED, target=name)) == MAX_FAILURES


def test_the_session_cookie_is_http_only_and_same_site_strict(guarded: Services, guarded_app: FastAPI) -> None:
    name = person(guarded)
    with browser(guarded_app) as someone:
        signed_in = someone.post("/console/login", data={"username": name, "password": PASSWORD, "next": "/console"})
        assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/console")
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= attributes
        assert someone.get("/v1/me").json()["name"] == name
    assert session_rows(guarded, name) == 1


# Sessions, keys and CSRF on the shared app.


def test_an_expired_session_is_a_401_for_the_api_and_a_sign_in_page_for_the_console(
    client: TestClient, ready: Services
) -> None:
    name = person(ready)
    with sign_in(browser(client.app), name) as someone:  # type: ignore[arg-type]
        assert someone.get("/v1/me").status_code == 200
        with ready.store.engine.begin() as conn:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            conn.execute(sa.update(sessions).where(sessions.c.user_name == name).values(expires_at=past))
        api = someone.get("/v1/me")
        assert api.status_code == 401 and "expired" in api.json()["detail"]
        console = someone.post("/console/logout")
        assert console.status_code == 303
        assert console.headers["location"].startswith("/console/login?reason=expired")
        htmx = someone.post("/console/logout", headers={"HX-Request": "true"})
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/console/login?reason=expired")
        page = someone.get("/console/login?reason=expired")
        assert "Your session has expired" in page.text


def test_signing_out_ends_the_session_and_a_key_has_none_to_end(client: TestClient, ready: Services) -> None:
    name = person(ready)
    with sign_in(browser(client.app), name) as someone:  # type: ignore[arg-type]
        token = ready.accounts.session(someone.cookies[SESSION_COOKIE]).csrf_token
        cookie = someone.cookies[SESSION_COOKIE]
        signed_out = someone.post("/console/logout", data={"csrf_token": token})
        assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/console/login?reason=signed_out")
        refused = someone.get("/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
        assert refused.status_code == 401, "the old cookie is worth nothing, even if kept"
    with TestClient(client.app, follow_redirects=False) as service:
        key = service.post("/console/logout", headers={"X-API-Key": client.headers["X-API-Key"]})
        assert key.status_code == 303
    assert [e.actor for e in ready.audit.entries(action=AuditAction.SIGNED_OUT, actor=name)] == [name]


def test_a_revoked_key_is_refused_saying_so(client: TestClient, ready: Services) -> None:
    key, secret = ready.accounts.create_key(unique("revoked"), Role.SERVICE, by=OPERATOR)
    assert client.get("/v1/me", headers={"X-API-Key": secret}).status_code == 200
    assert client.post(f"/v1/keys/{key.id}/revoke").status_code == 200
    refused = client.get("/v1/me", headers={"X-API-Key": secret})
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    again = client.post(f"/v1/keys/{key.id}/revoke")
    assert again.status_code == 409 and "already revoked" in again.json()["detail"]
    assert len(ready.audit.entries(action=AuditAction.KEY_REVOKED, target=key.id)) == 1


def test_a_cookie_write_needs_the_sessions_csrf_token(client: TestClient, ready: Services) -> None:
    ticket = client.post("/v1/suggest", json=PAYOUT).json()["ticket_id"]
    draft = client.post(f"/v1/tickets/{ticket}/drafts").json()["id"]
    before = client.get(f"/v1/tickets/{ticket}").json()["labels"]
    name = person(ready)
    with sign_in(browser(client.app), name) as someone:  # type: ignore[arg-type]
        token = ready.accounts.session(someone.cookies[SESSION_COOKIE]).csrf_token
        for headers in ({}, {CSRF_HEADER: "forged-" + token[:20]}):
            labels = someone.post(f"/v1/tickets/{ticket}/labels", json={"priority": "P4"}, headers=headers)
            assert labels.status_code == 403 and "CSRF" in labels.json()["detail"]
            decision = someone.post(f"/v1/drafts/{draft}/decision", json={"kind": "approve"}, headers=headers)
            assert decision.status_code == 403 and "CSRF" in decision.json()["detail"]
        assert client.get(f"/v1/tickets/{ticket}").json()["labels"] == before
        assert list(ready.tickets.corrections(ticket)) == []
        assert client.get(f"/v1/drafts/{draft}").json()["status"] == "pending"

        corrected = someone.post(f"/v1/tickets/{ticket}/labels", json={"priority": "P4"}, headers={CSRF_HEADER: token})
        assert corrected.status_code == 201 and corrected.json()["actor"] == name
        decided = someone.post(f"/v1/drafts/{draft}/decision", json={"kind": "approve"}, headers={CSRF_HEADER: token})
        assert decided.status_code == 201 and decided.json()["actor"] == name
    assert client.get(f"/v1/tickets/{ticket}").json()["labels"]["priority"] == "P4"
    [audited] = ready.audit.entries(action=AuditAction.DRAFT_DECIDED, target=draft)
    assert (audited.actor, audited.role) == (name, "specialist")


# Writes that cannot be done as asked.


def test_a_draft_decided_by_one_specialist_is_a_conflict_for_the_next(client: TestClient, ready: Services) -> None:
    first_key, first = ready.accounts.create_key(unique("agent"), Role.SPECIALIST, by=OPERATOR)
    _, second = ready.accounts.create_key(unique("agent"), Role.SPECIALIST, by=OPERATOR)
    draft = client.post("/v1/suggest", json=PAYOUT).json()["id"]
    reject = {"kind": "reject", "reason": "wrong_policy", "note": "needs CR-04"}
    assert client.post(f"/v1/drafts/{draft}/decision", json=reject, headers={"X-API-Key": first}).status_code == 201
    late = client.post(f"/v1/drafts/{draft}/decision", json={"kind": "approve"}, headers={"X-API-Key": second})
    assert late.status_code == 409 and "already rejected" in late.json()["detail"]
    assert client.get(f"/v1/drafts/{draft}").json()["status"] == "rejected"
    history = client.get(f"/v1/drafts/{draft}/history").json()
    assert [(t["actor"], t["to_status"], t["note"]) for t in history] == [
        (f"key:{first_key.name}", "rejected", "needs CR-04")
    ]


def test_an_unknown_ticket_is_a_404_naming_it(client: TestClient) -> None:
    for answer in (
        client.get("/v1/tickets/TKT-nosuch"),
        client.get("/v1/tickets/TKT-nosuch/drafts"),
        client.post("/v1/tickets/TKT-nosuch/labels", json={"priority": "P1"}),
        client.post("/v1/tickets/TKT-nosuch/reveal"),
        client.post("/v1/tickets/TKT-nosuch/drafts"),
    ):
        assert answer.status_code == 404 and "TKT-nosuch" in answer.json()["detail"], answer.request.url


def test_a_label_outside_the_taxonomy_is_a_422_naming_the_valid_ones(client: TestClient, ready: Services) -> None:
    ticket = client.post("/v1/triage", json=PAYOUT).json()["ticket_id"]
    before = client.get(f"/v1/tickets/{ticket}").json()
    refused = client.post(f"/v1/tickets/{ticket}/labels", json={"intent": "nope"})
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert "unknown intent 'nope'" in detail and all(intent in detail for intent in ready.taxonomy.labels)
    flag = client.post(f"/v1/tickets/{ticket}/labels", json={"risk_flags": ["nope"]})
    assert flag.status_code == 422 and "unknown risk flag 'nope'" in flag.json()["detail"]
    assert client.post(f"/v1/tickets/{ticket}/labels", json={}).status_code == 422, "a correction changes something"
    assert client.get(f"/v1/tickets/{ticket}").json() == before
    assert list(ready.tickets.corrections(ticket)) == []
    assert ready.audit.entries(action=AuditAction.LABELS_CORRECTED, target=ticket) == []


def test_a_decision_cannot_name_its_actor_the_caller_is_the_actor(
    client: TestClient, ready: Services, api_keys: dict[Role, str]
) -> None:
    draft = client.post("/v1/suggest", json=PAYOUT).json()["id"]
    specialist = {"X-API-Key": api_keys[Role.SPECIALIST]}
    named = client.post(f"/v1/drafts/{draft}/decision", json={"kind": "approve", "actor": "boss"}, headers=specialist)
    assert named.status_code == 422
    assert [e["loc"] for e in named.json()["errors"]] == [["body", "approve", "actor"]]
    assert client.get(f"/v1/drafts/{draft}").json()["status"] == "pending"
    decided = client.post(f"/v1/drafts/{draft}/decision", json={"kind": "approve"}, headers=specialist)
    assert decided.status_code == 201
    assert decided.json()["actor"] == "key:tests-specialist"
    [audited] = ready.audit.entries(action=AuditAction.DRAFT_DECIDED, target=draft)
    assert (audited.actor, audited.actor_kind, audited.role) == ("key:tests-specialist", "key", "specialist")
