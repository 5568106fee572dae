"""The template writer on its own: template choice, locale, placeholders, citations."""

from __future__ import annotations

import pytest

from copilot.domain import DraftAction, Ticket
from copilot.drafting.composer import TemplateWriter
from copilot.drafting.grounding import ticket_fields
from copilot.drafting.plan import Plan
from copilot.services import Services
from tests.factories import grounding_for, labels


@pytest.mark.integration
def test_a_spanish_ticket_gets_the_spanish_template_when_the_sop_has_one(ready: Services) -> None:
    writer = TemplateWriter(embeddings=ready.embeddings)
    sop = ready.library.documents["SOP-CR-03"]
    ticket = Ticket(text="Hola, pedí un retiro de 80 USD hace dos semanas y no llega a mi banco.")
    draft = writer.write(
        ticket,
        labels("payout_missing", "es", "creator_rewards"),
        Plan(DraftAction.REPLY, sop),
        grounding_for(ready, "SOP-CR-03"),
    )
    assert draft.language == "es"
    assert draft.reply and "{{" not in draft.reply
    assert any(c.section.endswith("[es]") for c in draft.citations)
    assert not any("English" in w for w in draft.warnings)


@pytest.mark.integration
def test_a_ticket_in_a_locale_the_sop_lacks_gets_english_and_a_warning(ready: Services) -> None:
    writer = TemplateWriter(embeddings=ready.embeddings)
    sop = ready.library.documents["SOP-EP-03"]
    ticket = Ticket(text="Bonjour, comment activer les abonnements payants pour mes fans ?")
    draft = writer.write(
        ticket,
        labels("subscription_setup", "fr", "emerging_products"),
        Plan(DraftAction.REPLY, sop),
        grounding_for(ready, "SOP-EP-03"),
    )
    assert draft.language == "en"
    assert any("'fr'" in w and "English" in w for w in draft.warnings)


@pytest.mark.integration
def test_policy_figures_are_filled_and_their_policy_is_cited(ready: Services) -> None:
    writer = TemplateWriter(embeddings=ready.embeddings)
    sop = ready.library.documents["SOP-CR-01"]
    ticket = Ticket(text="what do I need to join creator rewards? how many followers?", creator_handle="lena.draws")
    draft = writer.write(
        ticket,
        labels("rewards_eligibility", "en", "creator_rewards"),
        Plan(DraftAction.REPLY, sop),
        grounding_for(ready, "SOP-CR-01"),
    )
    assert draft.reply and draft.reply.startswith("Hi @lena.draws")
    figures = ready.library.figures
    stated = [k for k, f in figures.items() if f.doc_id == "POL-REWARDS" and f.value in draft.reply]
    assert stated, "the reply states the eligibility figures from POL-REWARDS"
    assert ("POL-REWARDS", "Figures") in {(c.doc_id, c.section) for c in draft.citations}


@pytest.mark.unit
def test_ticket_fields_come_from_the_ticket_or_are_left_to_the_fallback() -> None:
    fields = ticket_fields(Ticket(id="TKT-9", text="@nova.cooks here: my $45.50 payout from 2026-10-03 never came"))
    assert fields == {"ticket_id": "TKT-9", "creator_handle": "@nova.cooks", "amount": "$45.50", "date": "2026-10-03"}
    assert "amount" not in ticket_fields(Ticket(text="where is my money"))


@pytest.mark.unit
def test_a_reply_greets_the_writers_own_handle_never_the_reported_account() -> None:
    assert ticket_fields(Ticket(text="My account is @mila.bakes. My payout is late"))["creator_handle"] == "@mila.bakes"
    assert ticket_fields(Ticket(text="minha conta @caio.treinos foi hackeada"))["creator_handle"] == "@caio.treinos"
    reported = Ticket(text="Who is the real person behind @nightowl.asmr? They upload my voice recordings as theirs.")
    assert "creator_handle" not in ticket_fields(reported)
