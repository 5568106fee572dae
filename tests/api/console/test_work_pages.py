"""The specialist's console pages, driven as a person does: signed in through the sign-in form, with the
session cookie and the page's CSRF token, over the real app, stores, index and trained model."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain import Draft, DraftStatus, RejectReason
from copilot.domain.accounts import Actor, Role
from copilot.domain.placeholders import figures_used
from copilot.domain.records import AuditAction, TicketRecord, TicketStatus
from copilot.domain.tickets import Ticket
from copilot.pipeline import intake, suggest_for
from copilot.services import Services

pytestmark = pytest.mark.integration

PASSWORD = "a-long-password"
TESTS = Actor.operator("tests")
SECRET = "hunter2hunter2"
EMAIL = "mila.bakes@example.com"
PAYOUT = (
    "I requested a withdrawal of my Creator Rewards earnings three days ago and it still hasn't arrived. Where is it?"
)


@dataclass
class Person:
    """A signed-in console user: their client (holding the session cookie) and name."""

    client: TestClient
    name: str

    def page(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, response.text[:500]
        return response.text

    def csrf(self, path: str = "/console") -> str:
        return csrf_token(self.page(path))

    def post(self, path: str, data: dict[str, str], *, token: str | None = None) -> httpx.Response:
        """A form post carrying the CSRF token as the page's hidden field does (none when `token` is '')."""
        token = self.csrf() if token is None else token
        fields = {**data, "csrf_token": token} if token else data
        return self.client.post(path, data=fields, follow_redirects=False)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def element(html: str, element_id: str) -> str:
    """The opening tag and what follows it up to the next element with an id (enough to read a value)."""
    start = html.find(f'id="{element_id}"')
    assert start >= 0, f"no element #{element_id} on the page"
    end = html.find(' id="', start + 4)
    return html[start : end if end > 0 else None]


@pytest.fixture(scope="module")
def app(ready: Services) -> FastAPI:
    return create_app(ready.settings, services=ready)


@pytest.fixture
def sign_in(app: FastAPI, ready: Services) -> Iterator[Callable[[Role], Person]]:
    """Makes a user of the role and signs them in through the sign-in form."""
    clients: list[TestClient] = []

    def signed_in(role: Role) -> Person:
        name = f"{role.value.replace('_', '-')}-{uuid.uuid4().hex[:10]}"
        ready.accounts.add_user(name, role, PASSWORD, by=TESTS)
        client = TestClient(app)
        clients.append(client)
        response = client.post("/console/login", data={"username": name, "password": PASSWORD}, follow_redirects=False)
        assert response.status_code == 303, response.text[:500]
        return Person(client, name)

    yield signed_in
    for client in clients:
        client.close()


def received(ready: Services, text: str) -> tuple[TicketRecord, Draft]:
    """A ticket kept by intake (as the helpdesk's webhook sends it) and its first draft."""
    record = intake(Ticket(text=text), services=ready, by=TESTS)
    return record, suggest_for(record, services=ready, by=TESTS)


def test_the_queue_lists_the_most_urgent_ticket_first(ready: Services, sign_in: Callable[[Role], Person]) -> None:
    urgent, _ = received(
        ready,
        "Someone hacked my account last night: they changed my email and password and post videos as me",
    )
    standard, _ = received(ready, "How do I change the phone number on my account? I got a new number last month.")
    assert (urgent.labels.priority, standard.labels.priority) == ("P1", "P3"), "triage labelled the tickets differently"
    assert urgent.labels.lob == standard.labels.lob == "account_access"
    specialist = sign_in(Role.SPECIALIST)

    html = specialist.page("/console?lob=account_access")

    assert '<table id="queue"' in html
    rows = re.findall(r'data-ticket-id="([^"]+)"', html)
    assert rows.index(urgent.id) < rows.index(standard.id)
    assert f'href="/console/tickets/{urgent.id}"' in html
    assert '<option value="creator_rewards"' in html  # the filters come from the taxonomy
    assert "<kbd>j</kbd>" in html


def test_the_queue_filters_say_when_nothing_matches_and_refuse_unknown_values(
    sign_in: Callable[[Role], Person],
) -> None:
    qa = sign_in(Role.QA)

    assert 'id="queue-empty"' in qa.page("/console?lob=verification&risk_flag=self_harm&language=ko&status=escalated")
    refused = qa.page("/console?lob=no_such_lob", status=422)
    assert "Unknown filter value" in refused and "no_such_lob" in refused


def test_a_new_ticket_is_labelled_drafted_and_opened(ready: Services, sign_in: Callable[[Role], Person]) -> None:
    specialist = sign_in(Role.SPECIALIST)
    helpdesk_id = f"HD-{uuid.uuid4().hex[:8]}"
    token = specialist.csrf("/console/tickets/new")

    response = specialist.post(
        "/console/tickets", {"text": PAYOUT, "creator_handle": "@mila", "helpdesk_id": helpdesk_id}, token=token
    )

    assert response.status_code == 303
    ticket_id = response.headers["location"].split("/")[-1].split("?")[0]
    record = ready.tickets.get(ticket_id)
    assert record.helpdesk_id == helpdesk_id
    html = specialist.page(response.headers["location"])
    assert "Ticket received, labelled and drafted." in html
    assert record.labels.intent in element(html, "label-intent")
    assert len(ready.store.of_ticket(ticket_id)) == 1
    again = specialist.post("/console/tickets", {"text": PAYOUT, "helpdesk_id": helpdesk_id}, token=token)
    assert again.headers["location"] == f"/console/tickets/{ticket_id}?message=exists"
    assert len(ready.store.of_ticket(ticket_id)) == 1  # the same helpdesk ticket is not drafted twice


def test_a_blank_or_too_long_ticket_gets_the_form_back_with_the_problem(
    ready: Services, sign_in: Callable[[Role], Person]
) -> None:
    specialist = sign_in(Role.SPECIALIST)
    token = specialist.csrf("/console/tickets/new")
    before = ready.tickets.count()

    blank = specialist.post("/console/tickets", {"text": "   ", "creator_handle": "@kept"}, token=token)
    too_long = "my payout is missing " * (ready.settings.max_ticket_chars // 10)
    long = specialist.post("/console/tickets", {"text": too_long}, token=token)

    assert blank.status_code == 422 and "ticket text is empty" in blank.text and 'value="@kept"' in blank.text
    assert long.status_code == 422 and f"the limit is {ready.settings.max_ticket_chars}" in long.text
    assert too_long.strip() in long.text  # the text is kept to be shortened
    assert ready.tickets.count() == before


def test_the_ticket_page_shows_labels_draft_figures_and_citations(
    ready: Services, sign_in: Callable[[Role], Person]
) -> None:
    record, draft = received(ready, PAYOUT)
    assert draft.reply and draft.template, "the payout SOP should give a template reply"
    qa = sign_in(Role.QA)

    html = qa.page(f"/console/tickets/{record.id}")

    assert record.labels.intent in element(html, "label-intent")
    assert record.labels.priority in element(html, "label-priority")
    assert 'id="time-left"' in html and 'id="draft"' in html
    sop = ready.library.documents[draft.citations[0].doc_id]
    template = next(t for t in sop.templates if t.template_id == draft.template and t.locale == draft.language)
    for name in figures_used(template.body):
        figure = ready.library.figures[name]
        assert re.search(rf'<mark class="figure" title="[^"]*{re.escape(figure.doc_id)}: {re.escape(name)}', html), name
    links = re.findall(r'<a class="citation" href="([^"]+)"', html)
    assert len(set(links)) == len(links)  # a section cited through several passages is linked once
    assert {link.split("#")[0] for link in links} == {
        f"/console/sop/{c.doc_id}/versions/{c.doc_version}" for c in draft.citations
    }
    for link in links:
        path, anchor = link.split("#")
        assert f'id="{anchor}"' in qa.page(path)  # each citation opens its section of the published text
    assert 'id="approve"' not in html and 'form id="labels"' not in html  # QA reads, never decides


def test_personal_data_is_masked_until_revealed_and_the_reveal_is_audited(
    ready: Services, sign_in: Callable[[Role], Person]
) -> None:
    record, _ = received(ready, f"my password is {SECRET}, I can't log in. Write to {EMAIL}")
    assert "pii_shared" in record.labels.risk_flags
    specialist, qa = sign_in(Role.SPECIALIST), sign_in(Role.QA)
    path = f"/console/tickets/{record.id}"

    html = specialist.page(path)
    assert SECRET not in html and EMAIL not in html and "[email hidden]" in element(html, "ticket-text")
    assert "[password removed]" in element(html, "ticket-text")  # removed on arrival, for good
    assert 'id="reveal"' in html
    assert SECRET not in specialist.page("/console?status=any&risk_flag=pii_shared")
    revealed = specialist.client.post(
        f"{path}/reveal", headers={"HX-Request": "true", "X-CSRF-Token": specialist.csrf(path)}
    )

    assert revealed.status_code == 200 and EMAIL in revealed.text and SECRET not in revealed.text
    entries = ready.audit.entries(action=AuditAction.TICKET_TEXT_REVEALED, target=record.id)
    assert [e.actor for e in entries] == [specialist.name]
    qa_html = qa.page(path)
    assert EMAIL not in qa_html and 'id="reveal"' not in qa_html
    assert qa.post(f"{path}/reveal", {}, token=qa.csrf(path)).status_code == 403
    assert len(ready.audit.entries(action=AuditAction.TICKET_TEXT_REVEALED, target=record.id)) == 1


def test_approving_through_the_form_records_the_signed_in_person(
    ready: Services, sign_in: Callable[[Role], Person]
) -> None:
    record, draft = received(ready, PAYOUT)
    specialist = sign_in(Role.SPECIALIST)
    path = f"/console/tickets/{record.id}"
    assert 'id="approve"' in specialist.page(path)

    response = specialist.post(f"/console/drafts/{draft.id}/decision", {"kind": "approve"}, token=specialist.csrf(path))

    assert response.status_code == 303 and response.headers["location"] == f"{path}?message=approved"
    assert ready.store.get(draft.id).status is DraftStatus.APPROVED
    [transition] = ready.store.transitions(draft.id)
    assert transition.actor == specialist.name
    assert ready.tickets.get(record.id).status in (TicketStatus.ANSWERED, TicketStatus.ESCALATED)
    html = specialist.page(response.headers["location"])
    assert "Draft approved." in html and 'id="approve"' not in html
    assert specialist.name in element(html, "history")
    again = specialist.post(
        f"/console/drafts/{draft.id}/decision", {"kind": "reject", "reason": "tone"}, token=specialist.csrf(path)
    )
    assert again.status_code == 409 and "already approved" in again.text
    assert len(ready.store.transitions(draft.id)) == 1


def test_editing_previews_the_diff_then_saves_the_edited_text(
    ready: Services, sign_in: Callable[[Role], Person]
) -> None:
    record, draft = received(ready, PAYOUT)
    assert draft.reply
    specialist = sign_in(Role.SPECIALIST)
    path = f"/console/tickets/{record.id}"
    token = specialist.csrf(path)
    edited = draft.reply + "\nP.S. We are sorry for the wait."

    preview = specialist.client.post(
        f"/console/drafts/{draft.id}/diff", data={"final_text": edited}, headers={"X-CSRF-Token": token}
    )
    no_text = specialist.post(f"/console/drafts/{draft.id}/decision", {"kind": "edit", "final_text": " "}, token=token)
    saved = specialist.post(f"/console/drafts/{draft.id}/decision", {"kind": "edit", "final_text": edited}, token=token)

    assert preview.status_code == 200 and '<span class="add">+P.S. We are sorry for the wait.</span>' in preview.text
    assert no_text.status_code == 422 and "an edit needs final_text" in no_text.text
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?message=edited"
    [transition] = ready.store.transitions(draft.id)
    assert (transition.to_status, transition.actor, transition.final_text) == (
        DraftStatus.EDITED,
        specialist.name,
        edited,
    )
    html = specialist.page(path)
    assert "+P.S. We are sorry for the wait." in element(html, "history")
    assert "P.S. We are sorry for the wait." in element(html, "sent-text")


def test_rejecting_needs_a_reason_and_keeps_it(ready: Services, sign_in: Callable[[Role], Person]) -> None:
    record, draft = received(ready, PAYOUT)
    specialist = sign_in(Role.SPECIALIST)
    path = f"/console/tickets/{record.id}"
    token = specialist.csrf(path)

    without = specialist.post(f"/console/drafts/{draft.id}/decision", {"kind": "reject", "note": "no"}, token=token)
    assert without.status_code == 422 and "a rejection needs a reason" in without.text
    assert ready.store.get(draft.id).status is DraftStatus.PENDING
    rejected = specialist.post(
        f"/console/drafts/{draft.id}/decision",
        {"kind": "reject", "reason": "wrong_policy", "note": "old SOP"},
        token=token,
    )

    assert rejected.status_code == 303
    [transition] = ready.store.transitions(draft.id)
    assert (transition.to_status, transition.reason, transition.note) == (
        DraftStatus.REJECTED,
        RejectReason.WRONG_POLICY,
        "old SOP",
    )
    assert transition.actor == specialist.name
    assert ready.tickets.get(record.id).status is TicketStatus.OPEN  # nothing was sent


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    ready: Services, sign_in: Callable[[Role], Person]
) -> None:
    record, draft = received(ready, PAYOUT)
    specialist = sign_in(Role.SPECIALIST)

    decision = specialist.post(f"/console/drafts/{draft.id}/decision", {"kind": "approve"}, token="")
    labels = specialist.post(f"/console/tickets/{record.id}/labels", {"priority": "P1"}, token="")
    wrong = specialist.post(f"/console/drafts/{draft.id}/decision", {"kind": "approve"}, token="not-the-token")

    assert (decision.status_code, labels.status_code, wrong.status_code) == (403, 403, 403)
    assert ready.store.get(draft.id).status is DraftStatus.PENDING
    assert ready.store.transitions(draft.id) == []
    assert ready.tickets.get(record.id).labels == record.labels


def test_a_label_not_in_the_taxonomy_is_refused_and_a_valid_one_is_kept(
    ready: Services, sign_in: Callable[[Role], Person]
) -> None:
    record, first = received(ready, PAYOUT)
    specialist = sign_in(Role.SPECIALIST)
    path = f"/console/tickets/{record.id}"
    token = specialist.csrf(path)

    refused = specialist.post(f"{path}/labels", {"intent": "made_up_intent", "risk_flags": ""}, token=token)
    assert refused.status_code == 422 and "Unknown intent &#39;made_up_intent&#39;" in refused.text
    assert list(ready.tickets.corrections(record.id)) == []
    assert ready.tickets.get(record.id).labels == record.labels

    kept = specialist.post(
        f"{path}/labels",
        {
            "intent": "tax_form",
            "risk_flags": "",
            "priority": record.labels.priority,
            "language": record.labels.language,
        },
        token=token,
    )
    assert kept.status_code == 303 and kept.headers["location"] == f"{path}?message=labels"
    [(_, correction)] = list(ready.tickets.corrections(record.id))
    assert (correction.actor, correction.new.intent, correction.old.intent) == (
        specialist.name,
        "tax_form",
        record.labels.intent,
    )
    html = specialist.page(path)
    assert 'id="corrected"' in html and "tax_form" in element(html, "label-intent")
    assert 'id="labels-changed"' in html  # the draft was written for the old intent

    again = specialist.post(f"{path}/drafts", {}, token=token)
    assert again.status_code == 303
    drafts = ready.store.of_ticket(record.id)
    assert drafts[0].id == first.id and drafts[-1].triage.intent == "tax_form"
    assert f'data-draft-id="{first.id}"' in element(specialist.page(path), "earlier-drafts")


def test_the_citation_view_shows_the_text_as_published_at_that_version(
    ready: Services, sign_in: Callable[[Role], Person], tmp_path: Path
) -> None:
    current = ready.library.documents["SOP-GEN-02"]
    published = Path(current.source_path).read_text(encoding="utf-8")
    old_version = f"0.0.{uuid.uuid4().int % 10_000}"
    old_text = published.replace(f"version: {current.version}", f"version: {old_version}").replace(
        "## Steps\n", "## Steps\n\nAN OLD STEP, SINCE REWRITTEN.\n", 1
    )
    old = current.model_copy(
        update={"version": old_version, "content_hash": uuid.uuid4().hex, "source_path": str(tmp_path / "old.md")}
    )
    ready.sop_versions.record([(old, old_text)], by=TESTS)
    writer = sign_in(Role.SOP_WRITER)

    html = writer.page(f"/console/sop/SOP-GEN-02/versions/{old_version}?section=steps")

    assert "AN OLD STEP, SINCE REWRITTEN." in element(html, "steps")
    assert 'class="card sop-section cited" id="steps"' in html
    assert "This SOP has changed since: current version" in html
    assert f'href="/console/sop/SOP-GEN-02/versions/{current.version}"' in element(html, "current-version")
    now = writer.page(f"/console/sop/SOP-GEN-02/versions/{current.version}")
    assert "AN OLD STEP" not in now and 'id="sop-changed"' not in now
    writer.page("/console/sop/SOP-GEN-02/versions/99.99.99", status=404)


def test_an_unknown_ticket_is_a_not_found_page(sign_in: Callable[[Role], Person]) -> None:
    html = sign_in(Role.SPECIALIST).page("/console/tickets/TKT-does-not-exist", status=404)
    assert "no ticket with id" in html


def test_the_ticket_page_links_the_next_ticket_of_the_queue(ready: Services, sign_in: Callable[[Role], Person]) -> None:
    first, _ = received(ready, PAYOUT)
    received(ready, PAYOUT)
    specialist = sign_in(Role.SPECIALIST)

    html = specialist.page(f"/console/tickets/{first.id}")
    queue = re.findall(r'data-ticket-id="([^"]+)"', specialist.page("/console"))

    assert len(queue) >= 2
    at = queue.index(first.id)
    if at + 1 < len(queue):
        assert f'id="next-ticket" rel="next" href="/console/tickets/{queue[at + 1]}"' in html
    if at > 0:
        assert f'id="prev-ticket" rel="prev" href="/console/tickets/{queue[at - 1]}"' in html
    assert "<kbd>a</kbd> approve" in html
