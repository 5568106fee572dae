"""The embedded default writer: composes drafts from the SOP's own reply templates, no model needed."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from langchain_core.embeddings import Embeddings
from lingua import IsoCode639_1, Language

from copilot.domain import Citation, Draft, DraftAction, ReplyTemplate, SopDocument, Ticket, Triage
from copilot.domain.placeholders import PLACEHOLDER, figures_used, fill
from copilot.domain.sop_format import Section
from copilot.drafting.grounding import Grounding, numbered_steps, ticket_fields
from copilot.drafting.plan import CLARIFY_TEMPLATE, HOLDING_TEMPLATE, OUT_OF_SCOPE_TEMPLATE, Plan

COMPOSER_VERSION = "template-composer/1"


class UnfilledPlaceholder(RuntimeError):
    """A template left a placeholder in the text; the draft is refused rather than shown."""


class TemplateWriter:
    """Picks the SOP template that fits the ticket, fills it, and cites what it used."""

    name = "template"

    def __init__(self, *, embeddings: Embeddings) -> None:
        self.embeddings = embeddings  # the bundle's cached embedder: the ticket and `Use when` lines embed once

    @property
    def version(self) -> str:
        return COMPOSER_VERSION

    def write(self, ticket: Ticket, triage: Triage, plan: Plan, grounding: Grounding) -> Draft:
        sop = plan.sop
        locale, warnings = _locale_for(sop, triage.language, plan)
        template = self._choose(ticket.text, _candidates(sop, locale, plan))
        reply, citations = None, list(grounding.cite(sop.id, Section.STEPS))
        if template is None:
            wanted = " or ".join(plan.template_ids) or "reply"
            warnings.append(f"{sop.id} has no {wanted} template: write the message yourself")
        else:
            reply = compose(template, grounding=grounding, fields=ticket_fields(ticket))
            citations = grounding.cite_template(template.template_id, template.locale) + citations
            citations += grounding.cite_figures(figures_used(template.body))
        return Draft(
            ticket_id=ticket.id,
            ticket_text=ticket.text,
            triage=triage,
            action=plan.action,
            reply=reply,
            template=template.template_id if template else None,
            language=locale,
            agent_steps=numbered_steps(sop),
            citations=_unique(citations),
            warnings=[*plan.reasons, *warnings],
            queue=escalation_queue(sop, triage) if plan.action is DraftAction.ESCALATE else None,
            writer=self.name,
            model_version=f"{self.version}; {triage.model_version}",
        )

    def _choose(self, text: str, templates: list[ReplyTemplate]) -> ReplyTemplate | None:
        """The template that fits the ticket best by two readings of its meaning, fused by rank: its
        `Use when` line alone, and that line with the reply itself. The first if none says when."""
        if len(templates) <= 1 or not any(t.use_when for t in templates):
            return templates[0] if templates else None
        ticket = np.asarray(self.embeddings.embed_query(text))
        rank_sum = np.zeros(len(templates))
        for reading in READINGS:
            scores = [self._similarity(ticket, reading(t)) for t in templates]
            rank_sum += np.argsort(np.argsort(scores)[::-1])
        return templates[int(np.argmin(rank_sum))]

    def _similarity(self, ticket: np.ndarray, text: str | None) -> float:
        return float(np.asarray(self.embeddings.embed_query(text)) @ ticket) if text else -1.0


def escalation_queue(sop: SopDocument, triage: Triage) -> str | None:
    """Where an escalated draft goes: the queue of the risk flag that caused the escalation, as triage gave it
    from the taxonomy (one escalation SOP handles several flags, each with its own queue: a press inquiry goes
    to communications, a legal threat to legal-liaison), else the SOP's own queue."""
    return triage.queue or sop.escalation_queue


def _use_when(template: ReplyTemplate) -> str | None:
    return template.use_when


def _use_when_and_reply(template: ReplyTemplate) -> str | None:
    return f"{template.use_when}\n{template.body}" if template.use_when else None


READINGS = (_use_when, _use_when_and_reply)  # the texts of a template compared with a ticket


def warm_template_choice(templates: Iterable[ReplyTemplate], embeddings: Embeddings) -> int:
    """Embed every reading of these templates once (the bundle's embedder caches single texts), so that
    no ticket waits for it; returns how many texts were embedded."""
    texts = {text for t in templates for reading in READINGS if (text := reading(t))}
    for text in sorted(texts):
        embeddings.embed_query(text)
    return len(texts)


def compose(template: ReplyTemplate, *, grounding: Grounding, fields: dict[str, str]) -> str:
    """The template with every placeholder filled; raises UnfilledPlaceholder if any survives."""
    text = fill(template.body, figures=grounding.library.figure_values(), ticket_fields=fields)
    if PLACEHOLDER.search(text) or "{{" in text:
        raise UnfilledPlaceholder(f"template {template.template_id} [{template.locale}] left a placeholder")
    return text.strip()


def _candidates(sop: SopDocument, locale: str, plan: Plan) -> list[ReplyTemplate]:
    templates = sop.templates_in(locale)
    if plan.template_ids:
        return [t for t in templates if t.template_id in plan.template_ids]
    special = (CLARIFY_TEMPLATE, HOLDING_TEMPLATE, OUT_OF_SCOPE_TEMPLATE)
    if plan.action is DraftAction.ESCALATE:
        # The SOP's holding reply; an SOP without one sends its own reply while specialists take over.
        holding = [t for t in templates if t.template_id.startswith(HOLDING_TEMPLATE)]
        return holding or [t for t in templates if not t.template_id.startswith(special)]
    return [t for t in templates if not t.template_id.startswith(special)]


def _locale_for(sop: SopDocument, language: str, plan: Plan) -> tuple[str, list[str]]:
    """The ticket's language if the SOP has a template for it, else the SOP's base language (the taxonomy's
    fallback_language, which the loader gives every document)."""
    fallback = sop.base_language
    if _candidates(sop, language, plan):
        return language, []
    if language == fallback:
        return fallback, []
    return fallback, [f"{sop.id} has no '{language}' template for this: the text is in {_language_name(fallback)}"]


def _language_name(code: str) -> str:
    """The English name of an ISO 639-1 code ("en" -> "English"), for a warning an agent reads."""
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code)).name.title()
    except ValueError:  # a code lingua does not know: show the code
        return code


def _unique(citations: list[Citation]) -> list[Citation]:
    seen: dict[str, Citation] = {}
    for citation in citations:
        seen.setdefault(citation.chunk_id, citation)
    return list(seen.values())
