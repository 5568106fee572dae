"""Remove personal data from text before it leaves the machine (to an external model)."""

from __future__ import annotations

import re

from copilot.domain.taxonomy import Taxonomy

PII_FLAG = "pii_shared"
_CONTACT = (
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),  # email addresses
    re.compile(r"(?<!\w)\+?\d[\d ()-]{7,}\d(?!\w)"),  # phone numbers
)
REDACTED = "[redacted]"


def redact(text: str, *, taxonomy: Taxonomy) -> str:
    """The text with contact details and everything the pii_shared flag's patterns catch replaced."""
    for pattern in (*_CONTACT, *taxonomy.flag_patterns.get(PII_FLAG, [])):
        text = pattern.sub(REDACTED, text)
    return text
