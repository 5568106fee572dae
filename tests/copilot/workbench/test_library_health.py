"""Coverage, gaps and suggested template edits over drafts made by the real pipeline and decided in a real
database of their own (the shared index, library and triage model are only read)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.domain import Decision, DecisionKind, Draft, Ticket
from copilot.domain.accounts import Actor
from copilot.domain.drafts import RejectReason
from copilot.domain.records import AuditAction
from copilot.pipeline import suggest
from copilot.services import Services, open_records
from copilot.workbench.coverage import coverage, draft_eval_cases
from copilot.workbench.gaps import gaps, shown_text
from copilot.workbench.suggestions import SuggestionNotFound, accept, dismiss, sentences, suggestions
from copilot.workbench.usage import eval_cases, template_of
from tests.factories import make_settings

pytestmark = pytest.mark.integration

AGENT = "agent-7"
WRITER = Actor.operator("sol.writer")
PAYOUT = "I withdrew my Creator Rewards earnings {} and the money still has not reached my bank. Where is it?"
TOPICS = {
    "music": [
        "My video was muted because of the song I used. Which songs am I allowed to use in my videos?",
        "Can I use a popular chart song as background music in my clips without a copyright problem?",
        "The audio on my latest upload got removed for copyrighted music. How do I license music for my videos?",
        "Is there a list of royalty-free songs I can add to my videos so the sound doesn't get muted?",
    ],
    "scheduling": [
        "How do I schedule a post to go live tomorrow morning instead of publishing it right now?",
        "Is there a way to plan my uploads in advance so they publish automatically at a set time?",
        "I want to queue up three videos this week to post on specific days. Where is the scheduler?",
        "Can I set a future date and time for a video to be published while I'm travelling?",
    ],
    "merch": [
        "How can I connect my merchandise store so fans can buy my t-shirts from my profile?",
        "I sell hoodies and mugs on my own shop. Can I link my merch store to my channel?",
        "Is there a way to show my merch products under my videos so viewers can purchase them?",
        "I want to open a merch shelf on my profile to sell my branded caps. How do I set it up?",
    ],
}


@pytest.fixture
def services(ready: Services, tmp_path: Path) -> Iterator[Services]:
    """The shared services with a records database of their own."""
    settings = make_settings(tmp_path)
    records = open_records(settings, taxonomy=ready.taxonomy)
    yield dataclasses.replace(
        ready,
        settings=settings,
        store=records.store,
        tickets=records.tickets,
        accounts=records.accounts,
        audit=records.audit,
        sop_versions=records.sop_versions,
        sop_revisions=records.sop_revisions,
        records=records,
    )
    records.close()


def drafted(services: Services, ticket_id: str, text: str) -> Draft:
    return suggest(Ticket(id=ticket_id, text=text), services=services)


def decide(services: Services, draft: Draft, kind: DecisionKind, **fields: object) -> None:
    services.store.decide(draft.id, Decision(kind=kind, actor=AGENT, **fields))  # type: ignore[arg-type]


def test_coverage_counts_real_drafts_and_their_decisions_per_template_and_eval_cases_per_document(
    services: Services,
) -> None:
    made = [
        drafted(services, f"TKT-cov-{n}", PAYOUT.format(when))
        for n, when in enumerate(("monday", "friday", "last week"))
    ]
    decide(services, made[0], DecisionKind.APPROVE)
    decide(services, made[1], DecisionKind.EDIT, final_text=(made[1].reply or "") + "\nThanks for waiting.")
    decide(services, made[2], DecisionKind.REJECT, reason=RejectReason.WRONG_POLICY)
    keys = {template_of(d) for d in made}
    assert len(keys) == 1 and None not in keys, "three alike payout tickets start from one template"
    key = keys.pop()
    assert key is not None

    report = coverage(services)
    doc = next(d for d in report.documents if d.doc_id == key.doc_id)
    template = next(t for t in doc.templates if (t.template_id, t.locale) == (key.template_id, key.locale))
    assert (template.usage.drafts, template.usage.approved, template.usage.edited, template.usage.rejected) == (
        3,
        1,
        1,
        1,
    )
    assert template.usage.reject_reasons == {"wrong_policy": 1}
    assert template.usage.share(template.usage.approved) == pytest.approx(1 / 3, abs=0.001)
    assert doc.usage.drafts == 3
    expecting = sum(key.doc_id in c.expected_sop_ids for c in eval_cases(services).golden)
    assert doc.usage.eval_cases == expecting > 0
    assert report.eval_cases_with_draft == 0 and report.traffic_drafts == 3
    assert template in report.untested_templates, "no eval case has a draft yet"
    # Untested templates are listed first: a document with one comes before every document without.
    flags = [any(t.usage.eval_cases == 0 for t in d.templates) for d in report.documents]
    assert flags == sorted(flags, reverse=True)

    golden = next(c for c in eval_cases(services).golden if c.expected_sop_ids[0] == key.doc_id)
    assert draft_eval_cases(services, [golden.id]) == 1
    after = coverage(services)
    assert after.eval_cases_with_draft == 1 and after.traffic_drafts == 3
    used = template_of(services.store.of_ticket(golden.id)[-1])
    assert used is not None
    exercised = next(
        t
        for d in after.documents
        for t in d.templates
        if (t.doc_id, t.template_id, t.locale) == (used.doc_id, used.template_id, used.locale)
    )
    assert exercised.usage.eval_cases == 1 and exercised not in after.untested_templates

    rules = {r.rule.split(" escalates")[0]: r for r in after.rules if r.kind == "risk_flag"}
    assert set(rules) == {f"risk flag {flag}" for flag in services.taxonomy.escalating_flags}
    labelled = sum("self_harm" in c.risk_flags for c in eval_cases(services).every)
    assert rules["risk flag self_harm"].eval_cases == labelled > 0
    assert after.untested_rules == [r for r in after.rules if r.eval_cases == 0]


def test_gaps_cluster_tickets_by_topic_with_the_nearest_sop_and_missing_languages(services: Services) -> None:
    for topic, texts in TOPICS.items():
        for n, text in enumerate(texts):
            draft = drafted(services, f"TKT-{topic}-{n}", text)
            if draft.status.value == "pending":
                decide(services, draft, DecisionKind.REJECT, reason=RejectReason.WRONG_POLICY)
    french = drafted(
        services,
        "TKT-fr",
        "J'ai retiré mes gains Creator Rewards il y a une semaine et l'argent n'est toujours pas arrivé "
        "sur mon compte bancaire.",
    )
    decide(services, french, DecisionKind.APPROVE)
    decided_well = drafted(services, "TKT-fine", PAYOUT.format("on monday"))
    decide(services, decided_well, DecisionKind.APPROVE)

    report = gaps(services)
    clusters = [set(c.ticket_ids) for c in report.clusters]
    for topic in TOPICS:
        ids = {f"TKT-{topic}-{n}" for n in range(len(TOPICS[topic]))}
        assert ids in clusters, f"{topic} tickets are not one cluster: {clusters}"
    assert all("TKT-fine" not in ids for ids in clusters), "an approved draft that needed no clarifying is no gap"
    for cluster in report.clusters:
        assert len(cluster.representatives) == min(3, cluster.size)
        assert cluster.nearest_sop in services.library.documents
        assert "rejected_wrong_sop" in cluster.reasons or set(cluster.ticket_ids) <= {"TKT-fr"}
    assert report.sources.get("traffic") == report.tickets

    language = french.triage.language
    sop = french.citations[0].doc_id if french.citations else None
    if language not in {t.locale for t in services.library.documents[sop or "SOP-CR-03"].templates}:
        assert any(m.language == language and m.tickets == 1 for m in report.missing_locales), report.missing_locales


def test_report_text_hides_contact_details_and_secrets(services: Services) -> None:
    shown = shown_text("write to mila@example.com or call +1 415 555 0100 about my merch", [], services)
    assert "mila@example.com" not in shown and "555" not in shown
    assert "[email hidden]" in shown and "about my merch" in shown


NOTE = "You can follow every payout under Settings > Creator Rewards > Payouts."
ASIDE = "Please keep this ticket open until the money arrives."


def edit_adding(draft: Draft, *added: str) -> str:
    """The draft as an agent sends it: the sentences added before the sign-off paragraph."""
    head, _, sign_off = (draft.reply or "").rpartition("\n\n")
    return f"{head}\n\n{' '.join(added)}\n\n{sign_off}"


def test_a_sentence_agents_keep_adding_is_proposed_and_accepting_it_makes_a_draft_revision(
    services: Services,
) -> None:
    made = [
        drafted(services, f"TKT-sug-{n}", PAYOUT.format(when))
        for n, when in enumerate(("monday", "friday", "last week", "on the 3rd"))
    ]
    key = template_of(made[0])
    assert key is not None and all(template_of(d) == key for d in made)
    for n, draft in enumerate(made):
        extra = ("Sorry again for the wait.",) if n == 0 else ()
        decide(services, draft, DecisionKind.EDIT, final_text=edit_adding(draft, NOTE, ASIDE, *extra))

    found = suggestions(services)
    by_sentence = {s.sentence: s for s in found}
    assert set(by_sentence) == {NOTE, ASIDE}, "a sentence one edit in four adds is below the share"
    note = by_sentence[NOTE]
    assert (note.doc_id, note.template_id, note.locale) == (key.doc_id, key.template_id, key.locale)
    assert (note.operation, note.edits_with, note.edits_total) == ("add", 4, 4)
    assert {e.draft_id for e in note.evidence} == {d.id for d in made}
    assert NOTE in sentences(note.proposed_body) and NOTE not in note.template_body

    accepted = accept(note.id, services=services, by=WRITER)
    revision = services.sop_revisions.get(accepted.revision_id)
    assert revision.doc_id == key.doc_id and revision.status.value == "draft"
    assert note.proposed_body in revision.text
    published = services.library.documents[key.doc_id]
    assert f"version: {published.version}" not in revision.text, "the revision raises the version"

    dismiss(by_sentence[ASIDE].id, services=services, by=WRITER)
    assert suggestions(services) == []
    actions = {e.action for e in services.audit.entries(target=note.id)} | {
        e.action for e in services.audit.entries(target=by_sentence[ASIDE].id)
    }
    assert actions == {AuditAction.SOP_SUGGESTION_ACCEPTED, AuditAction.SOP_SUGGESTION_DISMISSED}
    with pytest.raises(SuggestionNotFound):
        dismiss(note.id, services=services, by=WRITER)


def test_too_few_edits_propose_nothing(services: Services) -> None:
    made = [drafted(services, f"TKT-few-{n}", PAYOUT.format(when)) for n, when in enumerate(("monday", "friday"))]
    for draft in made:
        decide(services, draft, DecisionKind.EDIT, final_text=edit_adding(draft, NOTE))
    assert services.settings.suggestion_min_edits > len(made)
    assert suggestions(services) == []
