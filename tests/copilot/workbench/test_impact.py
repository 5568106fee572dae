"""The change-impact preview replays what an SOP edit touches against the published library and the edited one:
a changed figure shows in the drafts that state it, a template that stops stating a required figure fails the
gate, and nothing is published or stored by a preview."""

from __future__ import annotations

import re

import pytest

from copilot.domain import Ticket
from copilot.domain.accounts import Actor
from copilot.domain.drafts import Decision, DecisionKind
from copilot.pipeline import suggest
from copilot.services import Services
from copilot.workbench.impact import preview_impact, preview_revision
from copilot.workbench.revisions import save_revision
from knowledge_base.loader import SopError

pytestmark = pytest.mark.integration

WRITER = Actor.operator("writer@example.com")
PAYOUT = "I withdrew $212 six business days ago and it hasn't arrived in my bank yet. Is that normal?"


def bumped(text: str) -> str:
    old = re.search(r"^version: (\d+)\.(\d+)\.(\d+)$", text, flags=re.MULTILINE)
    assert old is not None
    return text.replace(old[0], f"version: {old[1]}.{int(old[2]) + 1}.0", 1)


def test_a_changed_figure_shows_in_each_draft_that_states_it_and_the_gate_passes(own_library: Services) -> None:
    decided = suggest(Ticket(id="live-1", text=PAYOUT), services=own_library)
    own_library.store.decide(decided.id, Decision(kind=DecisionKind.APPROVE, actor=WRITER.name), by=WRITER)
    before = own_library.snapshot().fingerprint
    text = (own_library.settings.sop_dir / "SOP-CR-03.md").read_text(encoding="utf-8")
    edited = bumped(text).replace(
        "Withdrawals normally arrive within {{fig:payout.processing_business_days}} business days",
        "Withdrawals normally reach you within {{fig:payout.processing_business_days}} business days",
    )

    report = preview_impact("SOP-CR-03", edited, services=own_library)

    assert report.published_version == "1.0.2" and report.edited_version == "1.1.0"
    replayed = report.to_dict()["replayed"]
    assert replayed["golden"] > 0 and replayed["traffic"] == 1
    changed = {t.ticket_id: t for t in report.changed}
    assert "live-1" in changed, "the decided draft of real traffic that cited the SOP is replayed"
    diff = "\n".join(report.to_dict()["changed"][0]["text_diff"])
    assert "+Withdrawals normally reach you within 5 business days" in diff
    assert all(t.before.template == t.after.template for t in report.changed)
    assert {(m.suite, m.metric) for m in report.metrics} >= {("retrieval", "recall_at_5"), ("reply", "action_accuracy")}
    assert report.gate_passed
    assert own_library.snapshot().fingerprint == before, "a preview publishes nothing"


def test_a_template_that_stops_stating_a_required_figure_fails_the_gate(own_library: Services) -> None:
    text = (own_library.settings.sop_dir / "SOP-CR-03.md").read_text(encoding="utf-8")
    edited = bumped(text).replace("{{fig:payout.processing_business_days}} business days", "a few business days")

    report = preview_impact("SOP-CR-03", edited, services=own_library)

    facts = next(m for m in report.metrics if m.metric == "required_facts_stated")
    assert facts.before is not None and facts.after is not None and facts.after < facts.before
    assert facts.regressed and not report.gate_passed


def test_a_revision_keeps_its_verdict_and_a_text_that_does_not_check_is_refused(own_library: Services) -> None:
    text = (own_library.settings.sop_dir / "SOP-CR-03.md").read_text(encoding="utf-8")
    with pytest.raises(SopError, match=r"SOP-CR-03\.md: line \d+: tier"):
        preview_impact("SOP-CR-03", text.replace("tier: T1", "tier: T9"), services=own_library)

    revision = save_revision("SOP-CR-03", bumped(text), services=own_library, by=WRITER)
    report = preview_revision(revision.id, services=own_library, by=WRITER)

    kept = own_library.sop_revisions.get(revision.id)
    assert kept.impact_passed is report.gate_passed is True
    assert kept.impact_summary is not None and kept.impact_summary["edited_version"] == "1.1.0"
    assert not report.changed, "a version bump alone changes no draft's outcome"
