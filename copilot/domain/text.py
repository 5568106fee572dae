"""What text the copilot accepts: no control characters, the one rule every face (API, console, CLI) applies to
every id, name and text before it reaches a store.

Refused everywhere: NUL and the other C0 controls, DEL, the C1 controls (U+0080 to U+009F) and lone surrogates.
PostgreSQL cannot store NUL at all, while SQLite stores it as it is, so refusing it here is what makes both
stores behave alike; a lone surrogate cannot be encoded as UTF-8 by either. No person types a C1 control: they
arrive only from text decoded with the wrong code page (cp1252 read as latin-1), which the classifier would
misread anyway, and some terminals act on them (U+009B starts an escape sequence) when a log or an export is
viewed. Tab, line feed and carriage return are kept in free text (a ticket, a note, an edited reply has lines),
but never in a one-line value (an id, a handle, a name), where a line break could forge a log or CSV line.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

_NEVER = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
_IN_TEXT = re.compile(f"[{_NEVER}]")
_IN_LINE = re.compile(f"[{_NEVER}\t\n\r]")


class ControlCharacters(ValueError):
    """A value holding a character the copilot never stores (the API answers 422 naming the field)."""


def control_character(value: str, *, one_line: bool) -> str | None:
    """Why the value is refused (which character, where), or None when it is clean."""
    found = (_IN_LINE if one_line else _IN_TEXT).search(value)
    if found is None:
        return None
    code = ord(found.group())
    kind = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"contains U+{code:04X}, {kind}, at position {found.start()}"


def refuse_control_characters(value: str, *, one_line: bool, field: str | None = None) -> str:
    """The value as it is; raises ControlCharacters (naming `field` when given) if it holds a refused character."""
    problem = control_character(value, one_line=one_line)
    if problem is not None:
        raise ControlCharacters(f"{field}: {problem}" if field else problem)
    return value


def _clean_text(value: str) -> str:
    return refuse_control_characters(value, one_line=False)


def _clean_line(value: str) -> str:
    return refuse_control_characters(value, one_line=True)


# The same rule as JSON Schema patterns, for the API's published schema (ECMA-262 and Python read them alike).
# Lone surrogates are left out: the regex engines clients validate with cannot name them, and JSON as UTF-8
# cannot carry them.
_NEVER_ESCAPED = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
TEXT_PATTERN = rf"^[^{_NEVER_ESCAPED}]*$"
LINE_PATTERN = rf"^[^{_NEVER_ESCAPED}\t\n\r]*$"
# ... and with at least one character that is not whitespace.
TEXT_SAYING_SOMETHING = rf"^[^{_NEVER_ESCAPED}]*[^{_NEVER_ESCAPED}\s][^{_NEVER_ESCAPED}]*$"
LINE_SAYING_SOMETHING = rf"^[^{_NEVER_ESCAPED}\t\n\r]*[^{_NEVER_ESCAPED}\s][^{_NEVER_ESCAPED}\t\n\r]*$"

# Free text that may have lines: a ticket, a reply, a note.
CleanText = Annotated[str, AfterValidator(_clean_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
# One line: an id, a handle, an actor's or a label's name.
CleanLine = Annotated[str, AfterValidator(_clean_line), Field(json_schema_extra={"pattern": LINE_PATTERN})]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty or only whitespace")
    return value


# Text that must say something: a search query (a ticket's text says it in its own words, "ticket text is empty").
NotBlank = AfterValidator(_not_blank)
