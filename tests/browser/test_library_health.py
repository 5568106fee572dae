"""An SOP writer's library-health pages in a real Chromium: coverage, gaps, conflicts (a retired document still
referenced shows up once the folder changes), and a suggested template edit accepted as a draft revision and
another dismissed; QA reads the pages without the buttons. Screenshots go to reports/console/."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from copilot.domain.accounts import Role
from tests.browser.console import Console, screenshot, sign_in

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the fixtures say what to install
    pytest.skip(
        "playwright is missing: install the dev extra (`pip install 'playwright>=1.45'`)", allow_module_level=True
    )

pytestmark = pytest.mark.browser

NewPage = Callable[[], Page]
PAYOUT = "My Creator Rewards withdrawal from {} has still not arrived in my bank account. Where is it?"
KEPT = "You can follow every payout under Settings > Creator Rewards > Payouts."
DROPPED = "Please keep this ticket open until the money arrives."


def edited_by_agents(console: Console) -> None:
    """Three payout drafts, each sent with the same two sentences added (suggestion_min_edits is 3)."""
    for when in ("monday", "tuesday", "wednesday"):
        answer = console.api("POST", "/v1/suggest", json={"text": PAYOUT.format(when)})
        assert answer.status_code == 201, answer.text
        draft = answer.json()
        head, _, sign_off = draft["reply"].rpartition("\n\n")
        final = f"{head}\n\n{KEPT} {DROPPED}\n\n{sign_off}"
        decided = console.api("POST", f"/v1/drafts/{draft['id']}/decision", json={"kind": "edit", "final_text": final})
        assert decided.status_code in (200, 201), decided.text


def test_coverage_and_gaps_pages_show_what_no_eval_exercises_and_topics(console: Console, new_page: NewPage) -> None:
    page = new_page()
    sign_in(page, console, Role.SOP_WRITER)
    page.get_by_role("link", name="Library health").click()
    expect(page).to_have_url(console.url("/console/sop/coverage"))
    expect(page.locator("#coverage-summary")).to_contain_text("templates and")
    expect(page.locator("#untested-templates tbody tr").first).to_be_visible()
    expect(page.locator("#escalation-rules")).to_contain_text("risk flag self_harm")
    expect(page.locator("#coverage tr.document").first).to_be_visible()
    screenshot(page, "library-coverage.png")

    page.get_by_role("link", name="Gaps").click()
    expect(page).to_have_url(console.url("/console/sop/gaps"))
    expect(page.locator("#gaps-summary")).to_contain_text("tickets the copilot could not answer well")
    expect(page.locator("table#clusters")).to_be_visible()
    screenshot(page, "library-gaps.png")


def test_conflicts_page_names_both_files_once_the_folder_has_one(console: Console, new_page: NewPage) -> None:
    page = new_page()
    sign_in(page, console, Role.SOP_WRITER, then="/console/sop/conflicts")
    expect(page.locator("#no-conflicts")).to_be_visible()

    path = console.sop_dir / "SOP-AS-03.md"
    path.write_text(path.read_text(encoding="utf-8").replace("status: active", "status: retired", 1), encoding="utf-8")
    page.reload()
    row = page.locator("tr.conflict.warning").filter(has_text="SOP-AS-01.md")
    expect(row).to_contain_text("SOP-AS-03.md")
    expect(row).to_contain_text("retired_reference")
    screenshot(page, "library-conflicts.png")


def test_a_writer_accepts_one_suggested_edit_and_dismisses_another_qa_only_reads(
    console: Console, new_page: NewPage
) -> None:
    edited_by_agents(console)
    page = new_page()
    sign_in(page, console, Role.SOP_WRITER, then="/console/sop/suggestions")
    kept = page.locator("section.suggestion").filter(has_text=KEPT)
    dropped = page.locator("section.suggestion").filter(has_text=DROPPED)
    expect(kept).to_contain_text("in 3 of 3 edits")
    expect(dropped).to_have_count(1)
    screenshot(page, "library-suggestions.png")

    kept.get_by_role("button", name="Accept as a draft revision").click()
    expect(page).to_have_url(re.compile(r"/console/sop/revisions/\d+$"))

    page.goto(console.url("/console/sop/suggestions"))
    expect(page.locator("section.suggestion").filter(has_text=KEPT)).to_have_count(0)
    page.locator("section.suggestion").filter(has_text=DROPPED).get_by_role("button", name="Dismiss").click()
    expect(page.locator(".flash[role=status]")).to_have_text("Suggestion dismissed: it will not be proposed again.")
    expect(page.locator("#no-suggestions")).to_be_visible()

    audit = console.api("GET", "/v1/audit", params={"action": "sop.suggestion_dismissed"}).json()
    assert len(audit) == 1 and audit[0]["actor"] == "sol.writer"

    qa = new_page()
    sign_in(qa, console, Role.QA, then="/console/sop/coverage")
    expect(qa.locator("#coverage-summary")).to_be_visible()
    qa.goto(console.url("/console/sop/suggestions"))
    expect(qa.locator("button", has_text="Accept")).to_have_count(0)
