"""Tickets are kept as records: what intake received, the labels triage gave and the ones specialists put in force,
every draft made for them, and an audit line for every write (who, as what role, from where) that never holds
the ticket's text. Personal data is masked until someone reveals it, and that reveal is audited too."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from copilot.domain.accounts import Role
from copilot.services import Services
from copilot.triage.training import read_examples

pytestmark = pytest.mark.integration

PAYOUT = "my withdrawal of $120 from oct 3 still hasn't arrived, it's been 2 weeks"
CARD = "4539 1488 0343 6467"
CARD_TICKET = f"I was charged twice for my fan subscription on card {CARD}, please refund one of them"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def as_role(role: Role, keys: dict[Role, str]) -> dict[str, str]:
    return {"X-API-Key": keys[role]}


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_triage_keeps_the_ticket_with_its_labels_versions_and_sla_clock(
    client: TestClient, ready: Services, api_keys: dict[Role, str]
) -> None:
    helpdesk_id = unique("HD")
    labels = client.post(
        "/v1/triage", json={"text": PAYOUT, "helpdesk_id": helpdesk_id}, headers=as_role(Role.SERVICE, api_keys)
    ).json()
    ticket = client.get(f"/v1/tickets/{labels['ticket_id']}").json()
    assert (ticket["text"], ticket["text_masked"], ticket["helpdesk_id"]) == (PAYOUT, False, helpdesk_id)
    assert ticket["labels"] == ticket["model_labels"] == labels
    assert ticket["model_labels"]["model_version"] == ready.require_classifier().version
    assert ticket["taxonomy_version"] == ready.taxonomy.version
    sla_hours = ready.taxonomy.priorities[labels["priority"]].sla_hours
    assert when(ticket["sla_due_at"]) == when(ticket["received_at"]) + dt.timedelta(hours=sla_hours)
    assert (ticket["status"], ticket["corrected"]) == ("open", False)


def test_a_ticket_sent_twice_with_one_helpdesk_id_is_kept_once(client: TestClient, ready: Services) -> None:
    body = {"text": PAYOUT, "helpdesk_id": unique("HD")}
    first, again = (client.post("/v1/suggest", json=body).json() for _ in range(2))
    assert first["ticket_id"] == again["ticket_id"] and first["id"] != again["id"]
    triaged = client.post("/v1/triage", json=body).json()
    assert triaged["ticket_id"] == first["ticket_id"]
    assert len(client.get("/v1/audit", params={"action": "ticket.stored", "target": first["ticket_id"]}).json()) == 1
    drafts = client.get(f"/v1/tickets/{first['ticket_id']}/drafts").json()
    assert [d["id"] for d in drafts] == [first["id"], again["id"]]
    other = client.post("/v1/triage", json={"text": PAYOUT, "helpdesk_id": unique("HD")}).json()
    assert other["ticket_id"] != first["ticket_id"], "another helpdesk id is another ticket"


def test_a_correction_is_kept_beside_the_models_labels(
    client: TestClient, ready: Services, api_keys: dict[Role, str]
) -> None:
    model = client.post("/v1/triage", json={"text": PAYOUT}).json()
    assert model["intent"] == "payout_missing"
    specialist = as_role(Role.SPECIALIST, api_keys)
    correction = client.post(
        f"/v1/tickets/{model['ticket_id']}/labels", json={"intent": "payment_method_update"}, headers=specialist
    )
    assert correction.status_code == 201, correction.text
    kept = correction.json()
    assert (kept["old"], kept["new"]["intent"], kept["actor"]) == (
        model,
        "payment_method_update",
        "key:tests-specialist",
    )
    assert abs(when(kept["at"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    ticket = client.get(f"/v1/tickets/{model['ticket_id']}").json()
    assert ticket["model_labels"] == model, "the model's labels are never overwritten"
    assert ticket["labels"] == kept["new"] and ticket["corrected"] is True
    assert ticket["labels"]["lob"] == ready.taxonomy.lob_of_intent["payment_method_update"]


def test_corrections_export_as_training_data_with_card_numbers_redacted(
    client: TestClient, api_keys: dict[Role, str], tmp_path: Path
) -> None:
    model = client.post("/v1/triage", json={"text": CARD_TICKET}).json()
    assert "pii_shared" in model["risk_flags"]
    client.post(f"/v1/tickets/{model['ticket_id']}/labels", json={"intent": "subscription_setup"})
    export = client.get("/v1/label-corrections", headers=as_role(Role.QA, api_keys))
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    path = tmp_path / "corrections.jsonl"
    path.write_text(export.text)
    examples = read_examples(path, flags_column="risk_flags")  # what `copilot triage train` reads
    [ours] = [
        json.loads(line) for line in export.text.splitlines() if json.loads(line)["ticket_id"] == model["ticket_id"]
    ]
    assert (ours["intent"], ours["model_intent"], ours["corrected_by"]) == (
        "subscription_setup",
        model["intent"],
        "key:tests-admin",
    )
    assert CARD not in export.text and "4539" not in export.text
    assert "[card number removed]" in ours["text"] and "charged twice" in ours["text"]
    assert any(e.text == ours["text"] and e.label == "subscription_setup" for e in examples)
    assert all(e.flags is not None for e in examples)


def test_every_draft_of_a_ticket_is_kept_and_linked_to_it(client: TestClient, api_keys: dict[Role, str]) -> None:
    ticket = client.post("/v1/triage", json={"text": PAYOUT}).json()["ticket_id"]
    specialist = as_role(Role.SPECIALIST, api_keys)
    made = [client.post(f"/v1/tickets/{ticket}/drafts", headers=specialist) for _ in range(2)]
    assert [m.status_code for m in made] == [201, 201]
    listed = client.get(f"/v1/tickets/{ticket}/drafts", headers=as_role(Role.QA, api_keys)).json()
    assert [d["id"] for d in listed] == [m.json()["id"] for m in made]
    assert {d["ticket_id"] for d in listed} == {ticket}
    assert client.get(f"/v1/tickets/{ticket}").json()["latest_draft_id"] == made[-1].json()["id"]


def test_personal_data_is_masked_until_revealed_and_the_reveal_is_audited(
    client: TestClient, api_keys: dict[Role, str]
) -> None:
    text = f"{CARD_TICKET}; write to mila@example.com"  # the card is removed on arrival; the email stays, masked
    ticket = client.post("/v1/triage", json={"text": text}).json()["ticket_id"]
    specialist = as_role(Role.SPECIALIST, api_keys)
    shown = client.get(f"/v1/tickets/{ticket}", headers=specialist).json()
    assert (
        shown["text_masked"] is True and "mila@example.com" not in shown["text"] and "[email hidden]" in shown["text"]
    )
    queued = client.get("/v1/tickets", params={"risk_flag": "pii_shared", "limit": 1000}, headers=specialist).json()
    assert all(CARD not in t["text"] for t in queued) and ticket in {t["id"] for t in queued}
    revealed = client.post(f"/v1/tickets/{ticket}/reveal", headers=specialist)
    kept = text.replace(CARD, "[card number removed]")
    assert revealed.status_code == 200 and revealed.json() == {"ticket_id": ticket, "text": kept}
    [entry] = client.get("/v1/audit", params={"action": "ticket.text_revealed", "target": ticket}).json()
    assert (entry["actor"], entry["role"], entry["address"]) == ("key:tests-specialist", "specialist", "testclient")
    assert CARD not in json.dumps(entry)
    assert client.post(f"/v1/tickets/{ticket}/reveal", headers=as_role(Role.QA, api_keys)).status_code == 403


def audited(client: TestClient, action: str, target: str | None, actor: str) -> dict[str, Any]:
    """The newest audit entry of this action, target and actor; fails when there is none."""
    params = {"action": action, "actor": actor} | ({"target": target} if target else {})
    entries = client.get("/v1/audit", params=params).json()
    assert entries, f"no {action} entry by {actor} for {target}"
    return entries[0]  # type: ignore[no-any-return]


def test_every_write_is_audited_with_who_what_role_and_where_but_no_ticket_text(
    client: TestClient, api_keys: dict[Role, str]
) -> None:
    text = f"{PAYOUT} {unique('marker')}"
    service, specialist = as_role(Role.SERVICE, api_keys), as_role(Role.SPECIALIST, api_keys)
    triaged = client.post("/v1/triage", json={"text": text}, headers=service)
    ticket = triaged.json()["ticket_id"]
    client.post(f"/v1/tickets/{ticket}/labels", json={"priority": "P1"}, headers=specialist)
    draft = client.post(f"/v1/tickets/{ticket}/drafts", headers=specialist).json()["id"]
    client.post(f"/v1/drafts/{draft}/decision", json={"kind": "reject", "reason": "tone"}, headers=specialist)
    assert client.post("/v1/kb/ingest", headers=as_role(Role.SOP_WRITER, api_keys)).status_code == 200
    user = unique("audited")
    assert client.post("/v1/users", json={"name": user, "role": "qa", "password": "a long password"}).status_code == 201
    assert client.post(f"/v1/users/{user}/disable").status_code == 200
    key = client.post("/v1/keys", json={"name": unique("audited-key")}).json()["key"]["id"]
    assert client.post(f"/v1/keys/{key}/revoke").status_code == 200

    writes = [
        ("ticket.stored", ticket, "key:tests-service", "service"),
        ("ticket.labels_corrected", ticket, "key:tests-specialist", "specialist"),
        ("draft.created", draft, "key:tests-specialist", "specialist"),
        ("draft.decided", draft, "key:tests-specialist", "specialist"),
        ("kb.ingested", None, "key:tests-sop_writer", "sop_writer"),
        ("user.created", user, "key:tests-admin", "admin"),
        ("user.disabled", user, "key:tests-admin", "admin"),
        ("key.created", key, "key:tests-admin", "admin"),
        ("key.revoked", key, "key:tests-admin", "admin"),
    ]
    for action, target, actor, role in writes:
        entry = audited(client, action, target, actor)
        assert (entry["role"], entry["actor_kind"], entry["address"]) == (role, "key", "testclient"), action
        assert entry["request_id"] and len(entry["request_id"]) == 32, action  # the request's own id
        assert text not in json.dumps(entry["detail"]) and "withdrawal" not in json.dumps(entry["detail"]), action
    assert audited(client, "draft.decided", draft, "key:tests-specialist")["detail"]["decision"] == "rejected"
    stored = audited(client, "ticket.stored", ticket, "key:tests-service")
    assert stored["request_id"] == triaged.headers["X-Request-ID"], "an audit line leads to the request's log line"


def test_the_audit_log_is_for_qa_and_admins_only(client: TestClient, api_keys: dict[Role, str]) -> None:
    for role, status in ((Role.SPECIALIST, 403), (Role.SOP_WRITER, 403), (Role.SERVICE, 403), (Role.QA, 200)):
        assert client.get("/v1/audit", headers=as_role(role, api_keys)).status_code == status, role
