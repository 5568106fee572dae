"""A specialist's day in the console, in a real Chromium: signing in, working the queue by keyboard, reading a
draft and the SOP text it cites, editing, approving and rejecting, an escalation, a label correction,
revealing masked personal data, and the pages their role keeps them out of. Screenshots of the main pages
go to reports/console/ for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from copilot.domain.accounts import Role
from tests.browser.console import (
    PASSWORD,
    PII_CONTACT,
    PII_SECRETS,
    USERS,
    Console,
    Offline,
    screenshot,
    sign_in,
)

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the fixtures say what to install
    pytest.skip(
        "playwright is missing: install the dev extra (`pip install 'playwright>=1.45'`)", allow_module_level=True
    )

pytestmark = pytest.mark.browser

NewPage = Callable[[], Page]
SPECIALIST = USERS[Role.SPECIALIST]


def queue_order(page: Page) -> list[str]:
    rows = page.locator("table#queue tbody tr[data-ticket-id]")
    return [str(ticket_id) for ticket_id in rows.evaluate_all("rows => rows.map(row => row.dataset.ticketId)")]


def selected_row(page: Page) -> str | None:
    return page.locator("table#queue tbody tr.selected").get_attribute("data-ticket-id")


def follow_citation(page: Page, citation: dict[str, str]) -> None:
    """Click the ticket page's link to this citation; the cited section is then the page's target."""
    item = page.locator("#citations li").filter(has_text=re.compile(rf"·\s*{re.escape(citation['section'])}\s*$"))
    item.locator("a.citation").filter(has_text=f"{citation['doc_id']} {citation['doc_version']}").first.click()
    page.wait_for_url(re.compile(rf"/versions/{re.escape(citation['doc_version'])}#[\w-]+$"))


def test_signing_in_shows_a_wrong_password_then_lands_on_the_queue(
    console: Console, new_page: NewPage, offline: Offline
) -> None:
    page = new_page()
    page.goto(console.url("/console"))
    expect(page).to_have_url(re.compile(r"/console/login\?"))
    expect(page.locator(".flash[role=status]")).to_have_text("Sign in to continue.")
    screenshot(page, "login.png")

    page.locator("input[name=username]").fill(SPECIALIST)
    page.locator("input[name=password]").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".flash.error")).to_have_text("Wrong user name or password")
    expect(page.locator("input[name=username]")).to_have_value(SPECIALIST)
    expect(page.locator("table#queue")).to_have_count(0)

    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(console.url("/console"))
    expect(page.locator("table#queue")).to_be_visible()
    expect(page.locator(".whoami")).to_contain_text(f"{SPECIALIST} · specialist")
    # Offline: the styles and scripts came from the service itself.
    assert any(url.endswith("/console/static/console.css") for url in offline.loaded)
    assert any(url.endswith("/console/static/htmx.min.js") for url in offline.loaded)


def test_the_queue_puts_the_escalation_first_and_feedback_last_and_works_by_keyboard(
    console: Console, new_page: NewPage
) -> None:
    page = new_page()
    sign_in(page, console, Role.SPECIALIST)
    order = queue_order(page)
    escalated, ordinary, feedback = (console.tickets[name].ticket_id for name in ("escalated", "ordinary", "feedback"))
    assert order.index(escalated) < order.index(ordinary) < order.index(feedback), order
    expect(page.locator(f'tr[data-ticket-id="{escalated}"] .badge.priority')).to_have_text("P1")
    expect(page.locator(f'tr[data-ticket-id="{feedback}"] .badge.priority')).to_have_text("P4")
    expect(page.locator(f'tr[data-ticket-id="{escalated}"]')).to_contain_text("wellbeing-response")
    screenshot(page, "queue.png")

    assert page.locator("table#queue tr.selected").count() == 0
    page.keyboard.press("j")
    assert selected_row(page) == order[0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert selected_row(page) == order[2]
    page.keyboard.press("k")
    assert selected_row(page) == order[1]
    page.keyboard.press("Enter")
    page.wait_for_url(console.url(f"/console/tickets/{order[1]}"))
    expect(page.locator("h1")).to_contain_text(order[1])


def test_a_ticket_shows_labels_risk_draft_and_citations_that_open_the_cited_text(
    console: Console, new_page: NewPage
) -> None:
    page = new_page()
    pii = console.tickets["pii"]
    sign_in(page, console, Role.SPECIALIST, then=pii.path)
    expect(page.locator("#label-intent")).to_contain_text(pii.draft["triage"]["intent"])
    expect(page.locator("#label-priority")).to_have_text(pii.draft["triage"]["priority"])
    expect(page.locator('.risk-flag[data-flag="pii_shared"]')).to_be_visible()

    citing = console.tickets["citing"]
    page.goto(console.url(citing.path))
    labels = citing.draft["triage"]
    expect(page.locator("#label-intent")).to_contain_text(labels["intent"])
    expect(page.locator("#label-lob")).to_have_text(labels["lob"])
    expect(page.locator("#label-priority")).to_have_text(labels["priority"])
    first_line = citing.draft["reply"].splitlines()[0]
    expect(page.locator("#draft-text")).to_contain_text(first_line)
    expect(page.locator("#draft-status")).to_have_text("pending")
    cited = {(c["doc_id"], c["doc_version"]) for c in citing.draft["citations"]}
    links = page.locator("a.citation")
    hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    shown = [re.fullmatch(r"/console/sop/([^/]+)/versions/([^/#]+)#[\w-]+", href) for href in hrefs]
    assert all(shown) and {m.groups() for m in shown if m} == cited, hrefs
    screenshot(page, "ticket.png")

    steps = next(c for c in citing.draft["citations"] if c["section"] == "Steps")
    follow_citation(page, steps)
    expect(page.locator("#sop-version")).to_have_text(steps["doc_version"])
    section = page.locator("section#steps")
    expect(section).to_be_in_viewport()
    assert page.evaluate("document.querySelector(':target')?.id") == "steps"
    # The passage is the text as published at that version, as the API keeps it.
    published = console.api("GET", f"/v1/kb/documents/{steps['doc_id']}/versions/{steps['doc_version']}").json()
    # The page renders the Markdown: compare words with the stored text's, its emphasis and code marks gone and
    # its wrapped lines joined as a paragraph is.
    stored = " ".join(re.sub(r"[*`]", "", published["text"]).split())
    shown_lines = [" ".join(line.split()) for line in section.locator(".sop-text").inner_text().splitlines()]
    shown_lines = [line for line in shown_lines if line]
    assert len(shown_lines) >= 3 and all(line in stored for line in shown_lines), shown_lines
    expect(page.locator("#sop-changed")).to_have_count(0)
    screenshot(page, "citation.png")


def test_editing_a_draft_shows_the_diff_then_saves_it_as_the_specialist(console: Console, new_page: NewPage) -> None:
    page = new_page()
    ticket = console.tickets["to-edit"]
    sign_in(page, console, Role.SPECIALIST, then=ticket.path)
    page.keyboard.press("e")
    editor = page.locator("#final-text")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(ticket.draft["reply"])
    added = "P.S. I have asked our payments team to look at your withdrawal today."
    editor.fill(f"{ticket.draft['reply']}\n{added}")
    expect(page.locator("#diff-preview .add")).to_contain_text(f"+{added}")
    expect(page.locator("#diff-preview .del")).to_have_count(0)
    screenshot(page, "edit.png")

    page.locator("#save-edit").click()
    page.wait_for_url(re.compile(r"message=edited"))
    expect(page.locator(".flash[role=status]")).to_have_text("Edit saved: the edited text is the one sent.")
    expect(page.locator("#draft-status")).to_have_text("edited")
    expect(page.locator("#ticket-status")).to_have_text("answered")
    history = page.locator("#history tr.transition")
    expect(history).to_have_count(1)
    expect(history.locator(".actor")).to_have_text(SPECIALIST)
    expect(history).to_contain_text("pending → edited")
    expect(page.locator("#history .transition-diff .add")).to_contain_text(added)
    expect(page.locator("#approve")).to_have_count(0)  # decided once: no more decision buttons


def test_approving_by_keyboard_and_rejecting_with_a_reason(console: Console, new_page: NewPage) -> None:
    page = new_page()
    approve = console.tickets["to-approve"]
    sign_in(page, console, Role.SPECIALIST, then=approve.path)
    page.keyboard.press("a")
    page.wait_for_url(re.compile(r"message=approved"))
    expect(page.locator("#draft-status")).to_have_text("approved")
    expect(page.locator("#ticket-status")).to_have_text("answered")
    expect(page.locator("#history tr.transition .actor")).to_have_text(SPECIALIST)
    expect(page.locator("#history tr.transition")).to_contain_text("pending → approved")

    reject = console.tickets["to-reject"]
    page.goto(console.url(reject.path))
    page.keyboard.press("r")
    reason = page.locator("#reject-reason")
    expect(reason).to_be_focused()
    reason.select_option("wrong_policy")
    page.locator("#reject-note").fill("The creator changed their bank last week: the hold SOP applies.")
    page.locator("#confirm-reject").click()
    page.wait_for_url(re.compile(r"message=rejected"))
    expect(page.locator("#draft-status")).to_have_text("rejected")
    expect(page.locator("#ticket-status")).to_have_text("open")  # nothing was sent: the ticket still needs a reply
    row = page.locator("#history tr.transition")
    expect(row.locator(".actor")).to_have_text(SPECIALIST)
    expect(row).to_contain_text("pending → rejected")
    expect(row).to_contain_text("wrong policy")
    expect(row).to_contain_text("the hold SOP applies")


def test_an_escalation_names_its_queue_and_shows_the_holding_reply(console: Console, new_page: NewPage) -> None:
    page = new_page()
    ticket = console.tickets["escalated"]
    sign_in(page, console, Role.SPECIALIST, then=ticket.path)
    expect(page.locator('.risk-flag[data-flag="self_harm"]')).to_have_class(re.compile(r"\bdanger\b"))
    expect(page.locator("#draft-action")).to_have_text("escalate")
    expect(page.locator("#escalation")).to_contain_text("Escalate to wellbeing-response")
    expect(page.locator("#draft h3").first).to_contain_text("Holding reply")
    expect(page.locator("#draft-text")).to_contain_text(ticket.draft["reply"].splitlines()[2])
    expect(page.locator("#label-queue")).to_have_text("wellbeing-response")


def test_a_label_correction_puts_new_labels_in_force_and_keeps_the_models(console: Console, new_page: NewPage) -> None:
    page = new_page()
    ticket = console.tickets["to-relabel"]
    sign_in(page, console, Role.SPECIALIST, then=ticket.path)
    page.locator("#labels-box > summary").click()
    form = page.locator("form#labels")
    form.locator("#labels-intent").select_option("payment_method_update")
    form.locator("#save-labels").click()
    page.wait_for_url(re.compile(r"message=labels"))
    expect(page.locator("#label-intent")).to_contain_text("payment_method_update")
    expect(page.locator("#corrected")).to_be_visible()
    expect(page.locator("#labels-changed")).to_contain_text("drafted as payout_missing")
    page.locator("#model-labels > summary").click()
    model = page.locator("#model-labels")
    expect(model).to_contain_text("payout_missing")
    expect(model).to_contain_text(f"Last corrected by {SPECIALIST}")


def test_personal_data_stays_masked_until_revealed_and_the_reveal_is_audited(
    console: Console, new_page: NewPage
) -> None:
    page = new_page()
    ticket = console.tickets["pii"]
    sign_in(page, console, Role.SPECIALIST)
    row = page.locator(f'table#queue tr[data-ticket-id="{ticket.ticket_id}"]')
    expect(row).to_contain_text("[password removed]")
    expect(row).not_to_contain_text(PII_SECRETS[0])
    page.goto(console.url(ticket.path))
    for hidden in (*PII_SECRETS, PII_CONTACT):
        assert hidden not in page.locator("body").inner_text()
        assert hidden not in page.content(), "masked personal data is still in the page's HTML"
    expect(page.locator("#ticket-text")).to_contain_text("[card number removed]")
    expect(page.locator(".warning").first).to_contain_text("shared personal data (pii_shared)")
    page.locator("#reveal").click()
    expect(page.locator("#revealed-note")).to_be_visible()
    expect(page.locator("#ticket-text")).to_contain_text(PII_CONTACT)
    for secret in PII_SECRETS:  # removed before the ticket was kept: no reveal brings them back
        assert secret not in page.content()
    page.reload()  # a reveal is for that once: the page comes back masked
    expect(page.locator("#reveal")).to_be_visible()
    assert PII_CONTACT not in page.content()

    entries = console.api(
        "GET", "/v1/audit", params={"action": "ticket.text_revealed", "target": ticket.ticket_id}
    ).json()
    assert [entry["actor"] for entry in entries] == [SPECIALIST]
    auditor = new_page()
    sign_in(auditor, console, Role.QA, then=f"/console/audit?action=ticket.text_revealed&target={ticket.ticket_id}")
    rows = auditor.locator("table#audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(SPECIALIST)
    expect(rows).to_contain_text("ticket.text_revealed")


def test_each_role_is_offered_and_let_into_only_its_own_pages(console: Console, new_page: NewPage) -> None:
    specialist = new_page()
    sign_in(specialist, console, Role.SPECIALIST)
    expect(specialist.locator(".topbar nav a")).to_have_text(["Queue", "New ticket"])
    for path in ("/console/sop", "/console/admin", "/console/audit"):
        response = specialist.goto(console.url(path))
        assert response is not None and response.status == 403, path
        expect(specialist.locator("h1")).to_have_text("Not allowed")
        expect(specialist.locator(".topbar nav a")).to_have_text(["Queue", "New ticket"])

    qa = new_page()
    sign_in(qa, console, Role.QA)
    expect(qa.locator(".topbar nav a")).to_have_text(["Queue", "Library health", "Audit log"])
    qa.get_by_role("link", name="Audit log").click()
    expect(qa).to_have_url(console.url("/console/audit"))
    expect(qa.locator("table#audit tbody tr").first).to_be_visible()
    assert qa.goto(console.url("/console/admin")).status == 403  # type: ignore[union-attr]

    writer = new_page()
    sign_in(writer, console, Role.SOP_WRITER)
    writer.get_by_role("link", name="SOP library").click()
    expect(writer.locator(".topbar nav a")).to_have_text(["SOP library", "Library health"])
    expect(writer.locator("table#library")).to_contain_text("SOP-CR-03")

    admin = new_page()
    sign_in(admin, console, Role.ADMIN)
    admin.get_by_role("link", name="Accounts").click()
    for name in USERS.values():
        expect(admin.locator("table#users")).to_contain_text(name)
    screenshot(admin, "accounts.png")


def test_a_sop_writer_signing_in_lands_on_a_page_they_may_use(console: Console, new_page: NewPage) -> None:
    """The queue is not theirs: signing in must not greet them with "Not allowed"."""
    page = new_page()
    page.goto(console.url("/console/login"))
    page.locator("input[name=username]").fill(USERS[Role.SOP_WRITER])
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).not_to_have_text("Not allowed")
    expect(page.locator("h1")).to_have_text("SOP library")


def test_a_citation_keeps_the_text_as_cited_after_the_sop_changes(console: Console, new_page: NewPage) -> None:
    """Runs last: it publishes a new version of the payout SOP in the server's own SOP folder."""
    ticket = console.tickets["citing"]
    steps = next(c for c in ticket.draft["citations"] if c["section"] == "Steps")
    doc = console.sop_dir / f"{steps['doc_id']}.md"
    old_version = steps["doc_version"]
    new_version = "9.9.9"
    added = "10. Added in the new version: confirm the last four digits of the payout method with the creator."
    text = doc.read_text(encoding="utf-8")
    text = text.replace(f"\nversion: {old_version}\n", f"\nversion: {new_version}\n", 1)
    text = text.replace("\n## Never say or promise", f"{added}\n\n## Never say or promise", 1)
    assert new_version in text and added in text
    doc.write_text(text, encoding="utf-8")
    answer = console.api("POST", "/v1/kb/ingest")
    assert answer.status_code == 200 and steps["doc_id"] in answer.json()["updated"], answer.text

    page = new_page()
    sign_in(page, console, Role.SPECIALIST, then=ticket.path)
    follow_citation(page, steps)
    expect(page.locator("#sop-version")).to_have_text(old_version)
    expect(page.locator("section#steps .sop-text")).not_to_contain_text("Added in the new version")
    expect(page.locator("#sop-changed")).to_contain_text(f"current version {new_version}")
    page.locator("#current-version").click()
    expect(page.locator("#sop-version")).to_have_text(new_version)
    # Rendered as the list's tenth item: its number is the list's, not the item's text.
    expect(page.locator("section#steps .sop-text")).to_contain_text(added.removeprefix("10. "))
