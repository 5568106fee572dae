"""The seam between the pipeline and whoever writes the text of a draft."""

from __future__ import annotations

from typing import Protocol

from copilot.domain import Draft, Ticket, Triage
from copilot.drafting.grounding import Grounding
from copilot.drafting.plan import Plan


class ReplyWriter(Protocol):
    """Writes a draft for a planned action, resting only on the grounding's passages."""

    name: str

    @property
    def version(self) -> str: ...

    def write(self, ticket: Ticket, triage: Triage, plan: Plan, grounding: Grounding) -> Draft: ...
