"""Remove personal data from text before it leaves the machine (to an external model)."""

from __future__ import annotations

from copilot.domain.personal_data import personal_spans, replace_spans
from copilot.domain.taxonomy import Taxonomy

REDACTED = "[redacted]"


def redact(text: str, *, taxonomy: Taxonomy) -> str:
    """The text with contact details and everything the patterns of the taxonomy's secret flags (those with
    `secrets: true`, such as pii_shared) catch replaced."""
    return replace_spans(text, personal_spans(text, taxonomy), REDACTED)
