"""The placeholder grammar of reply templates (see sop/README.md).

`{{fig:<figure>}}` takes a policy figure; `{{name|fallback}}` takes a value from the ticket or the
fallback text. Keeping the grammar here lets the loader reject a template the writer could not fill.
"""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)(?::([a-z0-9_.]+))?\s*(?:\|([^{}]*))?\}\}")
TICKET_FIELDS = ("creator_handle", "ticket_id", "amount", "date", "video_reference")
FIGURE = "fig"


class PlaceholderError(ValueError):
    """A template uses a placeholder the copilot could not fill."""


def check_template(body: str, *, figures: set[str] | None) -> None:
    """Raise PlaceholderError for an unknown name, a ticket field without fallback, or an unknown figure.

    `figures` is the set of known figure keys, or None to skip that check (single-file validation).
    """
    for match in PLACEHOLDER.finditer(body):
        name, key, fallback = match.groups()
        if name == FIGURE:
            if not key:
                raise PlaceholderError(f"{match.group(0)} names no figure; write {{{{fig:<figure>}}}}")
            if figures is not None and key not in figures:
                raise PlaceholderError(f"{match.group(0)}: no policy states figure {key!r}")
        elif name not in TICKET_FIELDS:
            raise PlaceholderError(
                f"{match.group(0)}: unknown placeholder {name!r}; valid: fig:<figure>, {', '.join(TICKET_FIELDS)}"
            )
        elif fallback is None:
            raise PlaceholderError(f"{match.group(0)} needs a fallback: {{{{{name}|<fallback text>}}}}")
    leftover = re.sub(PLACEHOLDER, "", body)
    if "{{" in leftover or "}}" in leftover:
        raise PlaceholderError("malformed placeholder: unmatched '{{' or '}}'")


def fill(body: str, *, figures: dict[str, str], ticket_fields: dict[str, str]) -> str:
    """Replace every placeholder: figures from policies, ticket fields from the ticket or their fallback."""

    def value(match: re.Match[str]) -> str:
        name, key, fallback = match.groups()
        if name == FIGURE:
            return figures[key]
        return ticket_fields.get(name) or (fallback or "").strip()

    return PLACEHOLDER.sub(value, body)


def figures_used(body: str) -> list[str]:
    return [m.group(2) for m in PLACEHOLDER.finditer(body) if m.group(1) == FIGURE and m.group(2)]
