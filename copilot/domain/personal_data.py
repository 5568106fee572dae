"""Where a ticket's text holds personal data: contact details and what the taxonomy's secret flags match.

Redaction (before an external model sees a ticket), masking (before a person sees one in the console) and
removal (before a ticket is stored) find the same spans here, so what one hides the others hide too. What a
reply needs (dates, amounts, counts, ticket references, video ids) is never taken for personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from copilot.domain.taxonomy import Taxonomy
from copilot.domain.ticket_facts import AMOUNT, DATE, VIDEO_REFERENCE

CONTACT_PATTERNS = {
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    # A candidate only: a run of digits is a phone number when it has as many digits as one (see _phone_like).
    "phone": re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{6,}\d(?!\w)"),
}
PHONE_DIGITS = range(8, 16)  # E.164 numbers have at most 15 digits; fewer than 8 is a count or an amount

# Facts a reply needs that a pattern above could take for personal data: a span found inside one is kept.
_DAY_OR_MONTH = r"(?:0?[1-9]|[12]\d|3[01])"
NUMERIC_DATE = re.compile(
    rf"\b{_DAY_OR_MONTH}[./-]{_DAY_OR_MONTH}[./-](?:\d{{4}}|\d{{2}})\b|\b\d{{4}}[./]\d{{2}}[./]\d{{2}}\b"
)
COUNT = re.compile(
    r"\b\d[\d .,]*\d\s?(?:k|m|mil|million|millions|millones|milhões|juta|views|followers|follower|subscribers|"
    r"likes|coins|diamonds|gifts|seguidores|visualizações|visualizaciones|vues|abonnés|aufrufe|izlenme|takipçi)\b",
    re.IGNORECASE,
)
TICKET_REFERENCE = re.compile(
    r"\b[A-Z]{2,5}-\d{2,}\b|#\d{3,}\b|\b(?:ticket|case|order|ref(?:erence)?|pedido|caso|commande|bestellung|"
    r"tiket)\s*(?:no\.?|number|n[º°]|#|:)?\s*[A-Z]{0,5}-?\d+\b",
    re.IGNORECASE,
)
VIDEO_ID = re.compile(r"\bvideos?/\d+|\bvideo\s*(?:id|n[º°o]\.?|#)?\s*[:#]?\s*\d{6,}\b", re.IGNORECASE)
KEPT_FACTS = (DATE, NUMERIC_DATE, AMOUNT, COUNT, TICKET_REFERENCE, VIDEO_REFERENCE, VIDEO_ID)
DATES = (DATE, NUMERIC_DATE)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # "email", "phone", or what a secret is: its pattern's group name ("card number"), or its flag
    secret: bool = False  # found by a secret flag's pattern: removed before the text is stored


def personal_spans(text: str, taxonomy: Taxonomy) -> list[Span]:
    """Non-overlapping spans of personal data, in text order (where two overlap, the first found wins, and at
    the same place a secret wins over a contact detail)."""
    contacts = [
        Span(m.start(), m.end(), kind)
        for kind, pattern in CONTACT_PATTERNS.items()
        for m in pattern.finditer(text)
        if kind != "phone" or _phone_like(m.group(0))
    ]
    return _without_facts(text, [*_secret_candidates(text, taxonomy), *contacts])


def secret_spans(text: str, taxonomy: Taxonomy) -> list[Span]:
    """The spans the taxonomy's secret flags match (passwords, codes, card and bank numbers, national ids,
    addresses), without contact details."""
    return _without_facts(text, list(_secret_candidates(text, taxonomy)))


def _secret_candidates(text: str, taxonomy: Taxonomy) -> list[Span]:
    found = []
    for flag in taxonomy.secret_flags:
        for pattern in taxonomy.flag_patterns[flag]:
            for m in pattern.finditer(text):
                name = next((n for n in pattern.groupindex if m.group(n) is not None), None)
                start, end = m.span(name) if name else m.span()
                if end > start:
                    found.append(Span(start, end, name.replace("_", " ") if name else flag, secret=True))
    return found


def _phone_like(candidate: str) -> bool:
    return sum(c.isdigit() for c in candidate) in PHONE_DIGITS


def _without_facts(text: str, candidates: list[Span]) -> list[Span]:
    """The candidates that are not a fact a reply needs (inside one, or running into a date), made
    non-overlapping."""
    facts = [m.span() for pattern in KEPT_FACTS for m in pattern.finditer(text)]
    dates = [m.span() for pattern in DATES for m in pattern.finditer(text)]
    kept = [
        span
        for span in candidates
        if not any(start <= span.start and span.end <= end for start, end in facts)
        and not any(span.start < end and start < span.end for start, end in dates)
    ]
    # Where two overlap, the more telling one wins: a secret of a precise shape (a password, a card number) over
    # an address, whose loose patterns can run over one ("and my card 4111 1111 1111 1111 was" reads like
    # "Via Roma 12, 20121 Milano"), and any secret over a contact detail; then the earlier, then the longer.
    spans: list[Span] = []
    for span in sorted(kept, key=lambda s: (_rank(s), s.start, -s.end)):
        if not any(span.start < other.end and other.start < span.end for other in spans):
            spans.append(span)
    return sorted(spans, key=lambda s: s.start)


def _rank(span: Span) -> int:
    return 2 if not span.secret else 1 if span.kind == "address" else 0


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


REMOVED = "[{kind} removed]"
_REMOVED_MARK = re.compile(r"\[[\w ]+ removed\]")


def without_secrets(text: str, *, taxonomy: Taxonomy) -> str:
    """The text as it may be stored: every secret replaced, for good, by a marker saying what was there ("my
    card [card number removed] was charged"). Names, emails and phone numbers stay: the agent needs them to
    answer, and the console masks them until an audited reveal."""
    return replace_spans(text, secret_spans(text, taxonomy), REMOVED)


def secrets_warning(risk_flags: list[str], taxonomy: Taxonomy) -> str | None:
    """What the agent must know before answering a ticket triage flagged as holding a secret, or None."""
    flags = [flag for flag in risk_flags if flag in taxonomy.secret_flags]
    if not flags:
        return None
    return (
        f"The creator shared personal data ({', '.join(flags)}): what the copilot could find of it was removed "
        "before the ticket was kept. Do not repeat it, and never ask for a password, code or full card or bank "
        "number; if a password or code was shared, tell the creator to change it."
    )


HIDDEN = "[{kind} hidden]"
ALL_HIDDEN = "[personal data hidden: reveal to read this ticket]"


def masked_text(text: str, risk_flags: list[str], taxonomy: Taxonomy) -> str | None:
    """The text as shown before anyone reveals it, or None when it needs no mask (no secret flag, or nothing
    left to hide once the secrets were removed on storage). Flagged by the learned detector with no span the
    patterns can find, the whole text is hidden: better than showing a secret nobody located."""
    if not holds_secrets(risk_flags, taxonomy):
        return None
    spans = personal_spans(text, taxonomy)
    if spans:
        return replace_spans(text, spans, HIDDEN)
    return None if _REMOVED_MARK.search(text) else ALL_HIDDEN
