"""An SOP writer's workbench in a real Chromium, on the server's own copy of the SOP folder: an edit with a mistake
shown with its line as it is typed, fixed, saved as a draft revision, its diff, publishing with a written override
(the old version's text still opens for citations), a rollback, and retiring a document with the documents that
refer to it listed first. Screenshots go to reports/console/."""

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
STEP = "10. Check the Payout trace tool for an open trace before opening another one."


def test_a_writer_edits_with_live_checks_then_publishes_with_an_override_and_rolls_back(
    console: Console, new_page: NewPage
) -> None:
    page = new_page()
    sign_in(page, console, Role.SOP_WRITER)
    expect(page.locator("#doc-SOP-CR-03 .last-reviewed")).to_have_text("never")
    screenshot(page, "sop-library.png")
    page.locator("#doc-SOP-CR-03 a").first.click()
    expect(page.locator("#sop-version")).to_have_text("1.0.2")
    page.locator("#edit").click()

    editor = page.locator("#sop-text")
    published = editor.input_value()
    broken = published.replace("tier: T1", "tier: T9")
    editor.fill(broken)
    problem = page.locator("#problem-list li.problem")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text(f"line {broken.splitlines().index('tier: T9') + 1}")
    expect(problem).to_contain_text("tier: unknown tier 'T9'")
    screenshot(page, "sop-edit-problem.png")

    fixed = published.replace("version: 1.0.2", "version: 1.1.0").replace(
        "\n## Never say or promise", f"{STEP}\n\n## Never say or promise", 1
    )
    editor.fill(fixed)
    expect(page.locator("#problems-state")).to_have_text("No problems: it can be saved as a draft revision.")
    page.locator("#save-revision").click()
    page.wait_for_url(re.compile(r"/console/sop/revisions/\d+\?done=saved"))
    expect(page.locator(".flash[role=status]")).to_contain_text("Draft revision saved")
    expect(page.locator("#revision-diff .del")).to_contain_text(["-version: 1.0.2"])
    expect(page.locator("#revision-diff .add")).to_contain_text(["+version: 1.1.0", f"+{STEP}"])
    expect(page.locator("#impact")).to_contain_text("No impact preview yet")
    expect(page.locator("#gate-state")).to_have_text("impact not run")
    screenshot(page, "sop-revision.png")

    page.locator("#override-reason-field").fill("Wording only; checked with payments-ops")
    page.locator("#publish").click()
    page.wait_for_url(re.compile(r"/console/sop/documents/SOP-CR-03\?done=published"))
    expect(page.locator("#sop-version")).to_have_text("1.1.0")
    expect(page.locator("#published-text")).to_contain_text(STEP.removeprefix("10. "))
    entry = console.api("GET", "/v1/audit", params={"action": "sop.published", "limit": 1}).json()[0]
    assert entry["detail"]["override_reason"] == "Wording only; checked with payments-ops"

    page.locator("#version-1\\.0\\.2 a").click()  # the text a draft citing 1.0.2 opens, kept after the edit
    expect(page.locator("#sop-changed")).to_contain_text("current version 1.1.0")
    expect(page.locator("body")).not_to_contain_text(STEP.removeprefix("10. "))
    page.go_back()

    page.locator("#rollback-1\\.0\\.2").click()
    page.wait_for_url(re.compile(r"done=rolled-back"))
    expect(page.locator("#sop-version")).to_have_text("1.1.1")
    expect(page.locator("#published-text")).not_to_contain_text(STEP.removeprefix("10. "))
    assert "version: 1.1.1" in (console.sop_dir / "SOP-CR-03.md").read_text(encoding="utf-8")


def test_retiring_lists_the_documents_that_refer_to_it_and_asks_to_confirm(console: Console, new_page: NewPage) -> None:
    page = new_page()
    sign_in(page, console, Role.SOP_WRITER, then="/console/sop/documents/SOP-CR-05")
    referrers = page.locator("#referrers li")
    expect(referrers.filter(has_text="SOP-CR-03")).to_have_count(1)
    expect(page.locator("#referrers-note")).to_contain_text("refer to SOP-CR-05")
    screenshot(page, "sop-retire.png")

    page.locator("#retire-button").click()  # the confirmation box is required: nothing is sent
    expect(page.locator("#sop-status")).to_contain_text("active")
    page.locator("#retire-confirm").check()
    page.locator("#retire-button").click()
    page.wait_for_url(re.compile(r"done=retired"))
    expect(page.locator("#sop-status")).to_have_text("retired")
    expect(page.locator("#sop-version")).to_have_text("1.0.1")
    expect(page.locator("#edit")).to_have_count(0)
    page.goto(console.url("/console/sop"))
    expect(page.locator("#doc-SOP-CR-05")).to_contain_text("retired")


def test_a_writer_runs_the_impact_preview_and_publishes_on_its_passing_gate(
    console: Console, new_page: NewPage
) -> None:
    published = console.api("GET", "/v1/kb/documents/SOP-CR-03").json()
    version = published["document"]["version"]
    major, minor, _ = version.split(".")
    text = published["text"].replace(f"version: {version}", f"version: {major}.{int(minor) + 1}.0", 1)
    edited = text.replace("Withdrawals normally arrive within", "Withdrawals normally reach you within")
    assert edited != text
    saved = console.api("POST", "/v1/kb/documents/SOP-CR-03/revisions", json={"text": edited})
    assert saved.status_code == 201, saved.text

    page = new_page()
    sign_in(page, console, Role.SOP_WRITER, then=f"/console/sop/revisions/{saved.json()['id']}")
    expect(page.locator("#impact-note")).to_contain_text("No impact preview yet")
    expect(page.locator("#override-reason-field")).to_be_visible()  # no passing gate yet: an override is asked
    page.locator("#run-impact").click()
    page.wait_for_url(re.compile(r"/console/sop/revisions/\d+"), timeout=180_000)
    expect(page.locator("#impact-summary")).to_contain_text("golden", timeout=180_000)
    changed = page.locator("#impact-changes tbody tr:not(.impact-diff)")
    expect(changed.first).to_contain_text("SOP-CR-03")
    page.locator("#impact-changes details summary").first.click()
    expect(page.locator("#impact-changes pre").first).to_contain_text("reach you within")
    expect(page.locator("#impact-metrics")).to_contain_text("recall_at_5")
    expect(page.locator("#gate-state")).to_have_text("impact passed")
    screenshot(page, "sop-impact.png")

    expect(page.locator("#override-reason-field")).to_have_count(0)  # the gate passed: no override needed
    page.locator("#publish").click()
    page.wait_for_url(re.compile(r"/console/sop/documents/SOP-CR-03\?done=published"))
    expect(page.locator("#published-text")).to_contain_text("reach you within")
