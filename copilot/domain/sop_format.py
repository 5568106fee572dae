"""The SOP format's names (sop/README.md): the sections a document has and the LOB that means "every LOB".

The loader checks documents against these, the chunker cuts passages by them, and drafting and
verification look sections up by them, so a section is renamed in one place.
"""

from __future__ import annotations

from enum import StrEnum


class Section(StrEnum):
    """A `## ` section of an SOP or policy, as its heading reads."""

    WHEN_THIS_APPLIES = "When this applies"
    WHAT_TO_CHECK = "What to check"
    STEPS = "Steps"
    NEVER_SAY = "Never say or promise"
    WHEN_TO_ESCALATE = "When to escalate"
    REPLY_TEMPLATES = "Reply templates"
    FIGURES = "Figures"  # a policy's table of figures, the one place each figure is stated


# Every SOP (not policy) has these, in this order.
SOP_SECTIONS = (
    Section.WHEN_THIS_APPLIES,
    Section.WHAT_TO_CHECK,
    Section.STEPS,
    Section.NEVER_SAY,
    Section.WHEN_TO_ESCALATE,
    Section.REPLY_TEMPLATES,
)
ALL_LOBS = "all"  # the `lob` of a document that applies across every LOB
