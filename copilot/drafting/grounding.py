"""What a draft may rest on: the plan's SOP, the passages fetched for it, and facts from the ticket."""

from __future__ import annotations

import re
from dataclasses import dataclass

from copilot.domain import Citation, Passage, SopDocument, Ticket
from copilot.domain.sop_format import Section
from copilot.domain.ticket_facts import AMOUNT, DATE, VIDEO_REFERENCE
from knowledge_base.chunking import template_section
from knowledge_base.library import SopLibrary

# A handle has letters, digits, '_' and '.', but does not end with '.' (that is the sentence's).
_HANDLE = r"@([A-Za-z0-9_][A-Za-z0-9_.]{0,28}[A-Za-z0-9_])"
# The writer's own handle: one the ticket introduces as theirs ("my account @x", "@x here", "we are @x").
# Any other handle in a ticket is as likely the account being reported, never one to greet.
_OWN_HANDLE = re.compile(
    r"(?:\b(?:my|mi|mis|minha|meu|mon|ma|mein|meine|meinem|il mio|la mia)\s+(?:[\w'’]+\s+){0,2}"
    r"|\b(?:i'?m|i am|we are|we're|this is|soy|somos|sou|je suis|nous sommes|ich bin|wir sind|sono|saya)\s+)"
    rf"{_HANDLE}\b(?!\.\w)|(?<![\w.]){_HANDLE}\s+(?:here|aqui|aquí|ici|hier|qui)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Grounding:
    """The SOP a draft follows and every passage it may cite (retrieved, or fetched for that SOP)."""

    sop: SopDocument
    sources: list[Passage]
    library: SopLibrary

    def cite(self, doc_id: str, section: str) -> list[Citation]:
        """Citations to the source passages of one section of one document."""
        return [
            Citation(doc_id=p.doc_id, doc_version=p.doc_version, section=p.section, chunk_id=p.chunk_id)
            for p in self.sources
            if p.doc_id == doc_id and p.section == section
        ]

    def cite_template(self, template_id: str, locale: str) -> list[Citation]:
        return self.cite(self.sop.id, template_section(template_id, locale))

    def cite_figures(self, keys: list[str]) -> list[Citation]:
        policies = sorted({self.library.figures[k].doc_id for k in keys})
        return [c for doc_id in policies for c in self.cite(doc_id, Section.FIGURES)]


def ticket_fields(ticket: Ticket) -> dict[str, str]:
    """Values a template may take from the ticket. Missing or ambiguous ones (two different amounts, say,
    one of which may be an instruction planted in the ticket) are left out: the fallback text is used."""
    text = ticket.text
    fields = {"ticket_id": ticket.id}
    handle = ticket.creator_handle or _own_handle(text)
    if handle:
        fields["creator_handle"] = "@" + handle.lstrip("@")
    for name, pattern in (("amount", AMOUNT), ("date", DATE), ("video_reference", VIDEO_REFERENCE)):
        value = _only(pattern, text)
        if value:
            fields[name] = value
    return fields


def _only(pattern: re.Pattern[str], text: str) -> str | None:
    """The value the pattern finds, if the text holds exactly one (however often repeated)."""
    values = {match.group(0).strip(" .,") for match in pattern.finditer(text)}
    return values.pop() if len(values) == 1 else None


def _own_handle(text: str) -> str | None:
    match = _OWN_HANDLE.search(text)
    return next((group for group in match.groups() if group), None) if match else None


def numbered_steps(sop: SopDocument) -> list[str]:
    """The SOP's `## Steps` as a list, one item per numbered step, Markdown emphasis removed."""
    section = sop.section(Section.STEPS)
    if section is None:
        return []
    items = re.split(r"^\s*\d+\.\s+", section.text, flags=re.MULTILINE)
    return [re.sub(r"\s+", " ", item.replace("**", "")).strip() for item in items if item.strip()]
