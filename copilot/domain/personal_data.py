"""Where a ticket's text holds personal data: contact details and what the taxonomy's secret flags match.

Redaction (before an external model sees a ticket) and masking (before a person sees one in the console)
find the same spans here, so what one hides the other hides too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from copilot.domain.taxonomy import Taxonomy

CONTACT_PATTERNS = {
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "phone": re.compile(r"(?<!\w)\+?\d[\d ()-]{7,}\d(?!\w)"),
}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # "email", "phone", or the secret flag whose pattern matched


def personal_spans(text: str, taxonomy: Taxonomy) -> list[Span]:
    """Non-overlapping spans of personal data, in text order (where two overlap, the first found wins)."""
    patterns = [
        *CONTACT_PATTERNS.items(),
        *((flag, pattern) for flag in taxonomy.secret_flags for pattern in taxonomy.flag_patterns[flag]),
    ]
    found = sorted(
        (
            Span(m.start(), m.end(), kind)
            for kind, pattern in patterns
            for m in pattern.finditer(text)
            if m.end() > m.start()
        ),
        key=lambda s: (s.start, -s.end),
    )
    spans: list[Span] = []
    for span in found:
        if not spans or span.start >= spans[-1].end:
            spans.append(span)
    return spans


def holds_secrets(risk_flags: list[str], taxonomy: Taxonomy) -> bool:
    """Triage flagged the ticket as holding a secret (pii_shared, say): it is shown masked until revealed."""
    return any(flag in taxonomy.secret_flags for flag in risk_flags)


def replace_spans(text: str, spans: list[Span], replacement: str) -> str:
    out, at = [], 0
    for span in spans:
        out += [text[at : span.start], replacement.format(kind=span.kind)]
        at = span.end
    return "".join([*out, text[at:]])


REDACTED = "[redacted]"


def redact(text: str, *, taxonomy: Taxonomy) -> str:
    """The text with every personal span replaced: what leaves the machine (to an external model) or the records
    (as training data) carries no contact detail or secret."""
    return replace_spans(text, personal_spans(text, taxonomy), REDACTED)


HIDDEN = "[{kind} hidden]"
ALL_HIDDEN = "[personal data hidden: reveal to read this ticket]"


def masked_text(text: str, risk_flags: list[str], taxonomy: Taxonomy) -> str | None:
    """The text as shown before anyone reveals it, or None when it needs no mask (no secret flag). Flagged by
    the learned detector with no span the patterns can find, the whole text is hidden: better than showing a
    secret nobody located."""
    if not holds_secrets(risk_flags, taxonomy):
        return None
    spans = personal_spans(text, taxonomy)
    return replace_spans(text, spans, HIDDEN) if spans else ALL_HIDDEN
