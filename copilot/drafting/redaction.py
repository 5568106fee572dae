"""Remove personal data from text before it leaves the machine (to an external model)."""

from __future__ import annotations

import re

from copilot.domain.taxonomy import Taxonomy

_CONTACT = (
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),  # email addresses
    re.compile(r"(?<!\w)\+?\d[\d ()-]{7,}\d(?!\w)"),  # phone numbers
)
REDACTED = "[redacted]"


def redact(text: str, *, taxonomy: Taxonomy) -> str:
    """The text with contact details and everything the patterns of the taxonomy's secret flags (those with
    `secrets: true`, such as pii_shared) catch replaced."""
    secrets = [pattern for flag in taxonomy.secret_flags for pattern in taxonomy.flag_patterns[flag]]
    for pattern in (*_CONTACT, *secrets):
        text = pattern.sub(REDACTED, text)
    return text
