"""Domain models shared by every stage: tickets, triage, SOP passages, drafts and decisions."""

from copilot.domain.drafts import (
    Decision,
    DecisionKind,
    Draft,
    DraftAction,
    DraftStatus,
    Problem,
    ProblemKind,
    RejectReason,
    Transition,
)
from copilot.domain.sop import Citation, Passage, ReplyTemplate, SopDocument, SopSection
from copilot.domain.tickets import Routing, Ticket, Triage

__all__ = [
    "Citation",
    "Decision",
    "DecisionKind",
    "Draft",
    "DraftAction",
    "DraftStatus",
    "Passage",
    "Problem",
    "ProblemKind",
    "RejectReason",
    "ReplyTemplate",
    "Routing",
    "SopDocument",
    "SopSection",
    "Ticket",
    "Transition",
    "Triage",
]
