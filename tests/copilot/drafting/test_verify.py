"""Verification of drafts: a model's reply is checked against its sources, the never-say list and the ticket."""

from __future__ import annotations

import json

import pytest

from copilot.domain import Citation, Draft, Ticket
from copilot.domain.drafts import Problem, ProblemKind
from copilot.domain.taxonomy import Taxonomy
from copilot.drafting.verify import never_say, verify
from copilot.pipeline import suggest
from copilot.services import Services
from tests.factories import TICKET, grounding_for, write, writer_with

pytestmark = pytest.mark.integration


def model_reply(ready: Services, reply: str) -> Draft:
    answer = json.dumps(
        {
            "reply": reply,
            "citations": [{"doc_id": "SOP-CR-03", "section": "Steps"}, {"doc_id": "POL-REWARDS", "section": "Figures"}],
        }
    )
    writer, _ = writer_with(ready, answer)
    return write(ready, writer)


def check(ready: Services, draft: Draft, taxonomy: Taxonomy | None = None) -> list[Problem]:
    return verify(
        draft, ticket=TICKET, grounding=grounding_for(ready, "SOP-CR-03"), taxonomy=taxonomy or ready.taxonomy
    )


def test_a_reply_resting_on_its_sources_passes(ready: Services) -> None:
    draft = model_reply(ready, "Hi,\nWithdrawals arrive within 5 business days; yours of $120 is being traced.\nThanks")
    assert check(ready, draft) == []


def test_a_figure_no_source_states_is_reported(ready: Services) -> None:
    draft = model_reply(ready, "Hi,\nYour payout will be with you within 47 hours.\nThanks")
    assert check(ready, draft) == [
        Problem(
            kind=ProblemKind.UNGROUNDED_FIGURE,
            detail="states 47, which no cited passage and not the ticket states",
            figure="47",
        )
    ]


def test_a_phrase_on_the_never_say_list_is_reported(ready: Services) -> None:
    phrase = never_say(ready.library.documents["SOP-CR-03"])[0]
    draft = model_reply(ready, f"Hi,\nDon't worry: {phrase}.\nThanks")
    assert check(ready, draft) == [
        Problem(
            kind=ProblemKind.NEVER_SAY,
            detail=f'says "{phrase}", on the never-say list of SOP-CR-03',
            citation="SOP-CR-03",
        )
    ]


def test_a_card_number_from_the_ticket_is_never_echoed(ready: Services) -> None:
    draft = model_reply(ready, "Hi,\nWe checked card 4539 1488 0343 6467 and it is fine.\nThanks")
    repeated = [p for p in check(ready, draft) if p.kind is ProblemKind.SECRET_REPEATED]
    assert [p.detail for p in repeated] == ["repeats a secret or card number from the ticket"]


def test_what_counts_as_a_secret_comes_from_the_taxonomy(ready: Services) -> None:
    draft = model_reply(ready, "Hi,\nWe checked card 4539 1488 0343 6467 and it is fine.\nThanks")
    flags = {name: spec.model_copy(update={"secrets": False}) for name, spec in ready.taxonomy.risk_flags.items()}
    no_secrets = ready.taxonomy.model_copy(update={"risk_flags": flags})
    assert no_secrets.secret_flags == []
    assert ProblemKind.SECRET_REPEATED not in {p.kind for p in check(ready, draft, no_secrets)}


def test_a_citation_that_is_not_a_source_is_reported(ready: Services) -> None:
    draft = model_reply(ready, "Hi,\nWithdrawals arrive within 5 business days.\nThanks")
    invented = Citation(doc_id="SOP-CR-03", doc_version="9.9.9", section="Steps", chunk_id="SOP-CR-03::steps::99")
    problems = check(ready, draft.model_copy(update={"citations": [*draft.citations, invented]}))
    assert problems == [
        Problem(
            kind=ProblemKind.UNKNOWN_CITATION,
            detail="cites SOP-CR-03::steps::99, which is not among its sources",
            citation="SOP-CR-03::steps::99",
        )
    ]


def test_every_draft_of_the_copilot_comes_out_verified_with_its_problems(ready: Services) -> None:
    draft = suggest(Ticket(text="my withdrawal from oct 3 of $80 still has not arrived"), services=ready)
    stored = ready.store.get(draft.id)
    assert stored.verified and stored.problems == []
