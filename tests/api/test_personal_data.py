"""A ticket carrying a card number, a password and an IBAN, sent through the API and through the console: no
row of the records database and no response holds any of them, the marker says what was removed, and the draft
warns the agent that the creator shared personal data."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain.accounts import Actor, Role
from copilot.services import Services
from copilot.store.tables import audit_log, drafts, label_corrections, tickets, transitions

pytestmark = pytest.mark.integration

CARD, PASSWORD, IBAN = "4539 1488 0343 6467", "Hunter2hunter", "DE89 3704 0044 0532 0130 00"
SECRETS = (CARD, PASSWORD, IBAN, "4539", "0130 00")
TEXT = (
    f"I was charged twice for my fan subscription on card {CARD}. Refund one to IBAN {IBAN}. "
    f"You can log in to check: my password is {PASSWORD}"
)


def stored_rows(ready: Services, ticket_id: str) -> str:
    """Every row the records database holds about the ticket, its drafts and their history, as text."""
    with ready.store.engine.connect() as conn:
        draft_ids = list(conn.execute(sa.select(drafts.c.id).where(drafts.c.ticket_id == ticket_id)).scalars())
        found = [
            *conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id)).mappings(),
            *conn.execute(sa.select(drafts).where(drafts.c.ticket_id == ticket_id)).mappings(),
            *conn.execute(sa.select(transitions).where(transitions.c.draft_id.in_(draft_ids))).mappings(),
            *conn.execute(sa.select(label_corrections).where(label_corrections.c.ticket_id == ticket_id)).mappings(),
            *conn.execute(sa.select(audit_log).where(audit_log.c.target.in_([ticket_id, *draft_ids]))).mappings(),
        ]
    assert draft_ids and found
    return repr([dict(row) for row in found])


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} is in {where}"


def test_secrets_sent_to_the_api_are_in_no_row_and_no_response(
    client: TestClient, ready: Services, api_keys: dict[Role, str]
) -> None:
    made = client.post("/v1/suggest", json={"text": TEXT, "helpdesk_id": f"HD-{uuid.uuid4().hex[:8]}"})
    assert made.status_code == 201, made.text
    draft, ticket_id = made.json(), made.json()["ticket_id"]
    assert "[card number removed]" in draft["ticket_text"] and "[password removed]" in draft["ticket_text"]
    assert "[bank account removed]" in draft["ticket_text"]
    assert any("shared personal data (pii_shared)" in w for w in draft["warnings"]), draft["warnings"]
    specialist = {"X-API-Key": api_keys[Role.SPECIALIST]}
    edited = client.post(
        f"/v1/drafts/{draft['id']}/decision",
        json={"kind": "edit", "final_text": f"We refunded the charge on card {CARD}.", "note": f"IBAN {IBAN}"},
        headers=specialist,
    )
    assert edited.status_code == 201, edited.text
    assert edited.json()["final_text"] == "We refunded the charge on card [card number removed]."
    responses = [
        made,
        edited,
        client.post("/v1/triage", json={"text": TEXT}),
        client.get(f"/v1/drafts/{draft['id']}"),
        client.get(f"/v1/drafts/{draft['id']}/history"),
        client.get(f"/v1/tickets/{ticket_id}"),
        client.get(f"/v1/tickets/{ticket_id}/drafts"),
        client.get("/v1/tickets", params={"status": "answered", "limit": 1000}),
        client.post(f"/v1/tickets/{ticket_id}/reveal", headers=specialist),
        client.post(f"/v1/tickets/{ticket_id}/drafts", headers=specialist),
        client.get("/v1/audit", params={"limit": 500}),
        client.get("/v1/label-corrections"),
    ]
    for response in responses:
        assert response.status_code < 300, (response.request.url, response.text[:300])
        assert_no_secret(f"{response.request.method} {response.request.url.path}", response.text)
    assert_no_secret("the database", stored_rows(ready, ticket_id))
    revealed = client.post(f"/v1/tickets/{ticket_id}/reveal", headers=specialist).json()["text"]
    assert revealed.startswith("I was charged twice for my fan subscription on card [card number removed].")


@pytest.fixture
def specialist(ready: Services) -> Iterator[TestClient]:
    """A specialist signed in to the console through its sign-in form."""
    name, password = f"specialist-{uuid.uuid4().hex[:8]}", "a-long-password"
    ready.accounts.add_user(name, Role.SPECIALIST, password, by=Actor.operator("tests"))
    with TestClient(create_app(ready.settings, services=ready)) as person:
        signed = person.post("/console/login", data={"username": name, "password": password}, follow_redirects=False)
        assert signed.status_code == 303
        yield person


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def test_secrets_typed_into_the_console_are_in_no_row_and_no_page(specialist: TestClient, ready: Services) -> None:
    form = specialist.get("/console/tickets/new").text
    created = specialist.post("/console/tickets", data={"text": TEXT, "csrf_token": csrf(form)}, follow_redirects=False)
    assert created.status_code == 303, created.text[:500]
    path = created.headers["location"].split("?")[0]
    ticket_id = path.rsplit("/", 1)[1]
    page = specialist.get(path).text
    assert_no_secret("the ticket page", page)
    assert "shared personal data (pii_shared)" in page and "[card number removed]" in page
    revealed = specialist.post(f"{path}/reveal", headers={"HX-Request": "true", "X-CSRF-Token": csrf(page)})
    assert revealed.status_code == 200
    assert_no_secret("the revealed text", revealed.text)
    assert_no_secret("the queue", specialist.get("/console?status=any&risk_flag=pii_shared").text)
    assert_no_secret("the database", stored_rows(ready, ticket_id))
