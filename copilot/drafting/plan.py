"""Decide what kind of draft a ticket gets, from which SOP, before anyone writes it.

Escalation comes first and is never overridden by a writer: a risk flag with an escalation SOP, or an
SOP that requires escalation. Then doubt gets a clarifying question: triage below the suggest
threshold, weak retrieval unless triage is confident enough to apply its label on its own
(similarity runs lower for languages the English embedder reads poorly; the classifier learned them
all), or a ticket that says too little for the SOP to answer ("it's broken again, fix it"). An
out-of-scope ticket gets the general SOP's not-our-platform reply. Only then a reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from copilot.domain import DraftAction, Passage, Routing, SopDocument, Triage
from knowledge_base.library import SopLibrary

# Template ids with a meaning to the copilot (sop/README.md lists them for SOP writers).
CLARIFY_TEMPLATE = "need_more_info"
HOLDING_TEMPLATE = "holding"
OUT_OF_SCOPE_TEMPLATE = "not_platform"
GENERAL_SOP_INTENT = "other"
# How a plan's reason for asking says retrieval was weak (the gap report finds such drafts by it).
WEAK_RETRIEVAL = "best SOP passage scores"


@dataclass(frozen=True)
class Plan:
    action: DraftAction
    sop: SopDocument
    reasons: list[str] = field(default_factory=list)
    template_ids: tuple[str, ...] = ()  # the templates to choose from; empty: any reply template


class NoSopForTicket(LookupError):
    """The library has no SOP for the intent and no general SOP to fall back on."""


def plan_draft(
    triage: Triage,
    passages: list[Passage],
    *,
    library: SopLibrary,
    min_retrieval_score: float,
    out_of_scope: str,
) -> Plan:
    for flag in triage.risk_flags:
        handler = library.escalation_sop_for(flag)
        if handler and handler.requires_escalation:
            return Plan(DraftAction.ESCALATE, handler, [f"risk flag {flag}: {handler.id} requires escalation"])
    sop = primary_sop(triage.intent, passages, library=library)
    if sop.requires_escalation:
        return Plan(DraftAction.ESCALATE, sop, [f"{sop.id} requires escalation"])
    reasons = []
    if triage.routing is Routing.HUMAN:
        reasons.append(f"triage confidence {triage.confidence:.2f} is below the suggest threshold")
    best = max((p.score for p in passages), default=0.0)
    if best < min_retrieval_score and triage.routing is not Routing.AUTO:
        reasons.append(f"{WEAK_RETRIEVAL} {best:.2f}, below {min_retrieval_score:.2f}")
    if triage.needs_detail:
        reasons.append(f"the ticket says too little to answer (needs-detail score {triage.detail_score:.2f})")
    if reasons:
        asking = sop if _has(sop, CLARIFY_TEMPLATE) else general_sop(library)
        return Plan(DraftAction.CLARIFY, asking, reasons, (CLARIFY_TEMPLATE,))
    if triage.intent == out_of_scope:
        return Plan(DraftAction.REPLY, sop, ["the ticket looks out of scope"], (OUT_OF_SCOPE_TEMPLATE,))
    return Plan(DraftAction.REPLY, sop)


def primary_sop(intent: str, passages: list[Passage], *, library: SopLibrary) -> SopDocument:
    """The active SOP written for the intent (the best-retrieved if several), else the general one."""
    for_intent = [d for d in library.active() if d.doc_type == "sop" and intent in d.intents]
    if not for_intent:
        return general_sop(library)
    best = {p.doc_id: p.score for p in reversed(passages)}
    return max(for_intent, key=lambda d: best.get(d.id, -1.0))


def general_sop(library: SopLibrary) -> SopDocument:
    found = [d for d in library.active() if d.doc_type == "sop" and GENERAL_SOP_INTENT in d.intents]
    if not found:
        raise NoSopForTicket(f"no active SOP covers the general intent {GENERAL_SOP_INTENT!r}")
    return found[0]


def _has(sop: SopDocument, template_id: str) -> bool:
    return any(t.template_id == template_id for t in sop.templates)
