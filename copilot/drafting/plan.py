"""Decide what kind of draft a ticket gets before anyone writes it.

Escalation comes first and is never overridden by a writer: a risk flag with an escalation SOP, or an
SOP that requires escalation. Then doubt: low triage confidence, weak retrieval, or an out-of-scope
ticket gets a clarifying question. Only then a reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from copilot.domain import DraftAction, Passage, Routing, SopDocument, Triage
from knowledge_base.library import SopLibrary

CLARIFY_TEMPLATE = "need_more_info"
HOLDING_TEMPLATE = "holding"
GENERAL_SOP_INTENT = "other"


@dataclass(frozen=True)
class Plan:
    action: DraftAction
    sop: SopDocument
    reasons: list[str] = field(default_factory=list)


class NoSopForTicket(LookupError):
    """The library has no SOP for the intent and no general SOP to fall back on."""


def plan_draft(triage: Triage, passages: list[Passage], *, library: SopLibrary, min_retrieval_score: float) -> Plan:
    for flag in triage.risk_flags:
        handler = library.escalation_sop_for(flag)
        if handler and handler.requires_escalation:
            return Plan(DraftAction.ESCALATE, handler, [f"risk flag {flag}: {handler.id} requires escalation"])
    sop = primary_sop(triage.intent, passages, library=library)
    if sop.requires_escalation:
        return Plan(DraftAction.ESCALATE, sop, [f"{sop.id} requires escalation"])
    reasons = []
    if triage.intent not in sop.intents:
        reasons.append(f"the ticket looks out of scope ({triage.intent})")
    if triage.routing is Routing.HUMAN:
        reasons.append(f"triage confidence {triage.confidence:.2f} is below the suggest threshold")
    best = max((p.score for p in passages), default=0.0)
    if best < min_retrieval_score:
        reasons.append(f"best SOP passage scores {best:.2f}, below {min_retrieval_score:.2f}")
    return Plan(DraftAction.CLARIFY if reasons else DraftAction.REPLY, sop, reasons)


def primary_sop(intent: str, passages: list[Passage], *, library: SopLibrary) -> SopDocument:
    """The active SOP written for the intent (the best-retrieved if several), else the general one."""
    active = [d for d in library.active() if d.doc_type == "sop"]
    for_intent = [d for d in active if intent in d.intents] or [d for d in active if GENERAL_SOP_INTENT in d.intents]
    if not for_intent:
        raise NoSopForTicket(f"no active SOP covers intent {intent!r} and none covers {GENERAL_SOP_INTENT!r}")
    best = {p.doc_id: p.score for p in reversed(passages)}
    return max(for_intent, key=lambda d: best.get(d.id, -1.0))
