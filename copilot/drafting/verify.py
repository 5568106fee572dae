"""Check a draft before an agent sees it, whichever writer made it.

A draft fails when a citation is not one of its sources or does not read as the version it names, when
a number (figure, date, amount, deadline) in its text appears neither in a cited passage nor in the
ticket, when it says something on the cited SOP's never-say list, or when it echoes a secret or card
number from the ticket (what the patterns of the taxonomy's secret flags match). A failing draft is still
shown, with the problems listed, never passed off as fine.
"""

from __future__ import annotations

import re

from copilot.domain import Draft, Passage, SopDocument, Ticket
from copilot.domain.drafts import Problem, ProblemKind
from copilot.domain.sop_format import Section
from copilot.domain.taxonomy import Taxonomy
from copilot.drafting.grounding import Grounding

_NEVER_SAY = re.compile(r'^\s*[-*]\s*"([^"]+)"', re.MULTILINE)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


def never_say(sop: SopDocument) -> list[str]:
    """The quoted phrases of the SOP's never-say list, as written."""
    section = sop.section(Section.NEVER_SAY)
    return _NEVER_SAY.findall(section.text) if section else []


def verify(draft: Draft, *, ticket: Ticket, grounding: Grounding, taxonomy: Taxonomy) -> list[Problem]:
    """Every problem found in the draft, each with a sentence an agent can act on; empty when it passes."""
    text = draft.reply or ""
    sources = {p.chunk_id: p for p in grounding.sources}
    problems = [
        Problem(
            kind=ProblemKind.UNKNOWN_CITATION,
            detail=f"cites {c.chunk_id}, which is not among its sources",
            citation=c.chunk_id,
        )
        for c in draft.citations
        if c.chunk_id not in sources
    ]
    problems += [
        Problem(
            kind=ProblemKind.STALE_CITATION,
            detail=f"cites {c.doc_id} {c.doc_version}, but the cited passage does not read as that version does",
            citation=c.chunk_id,
        )
        for c in draft.citations
        if c.chunk_id in sources and not _reads_as(sources[c.chunk_id], c.doc_version, grounding)
    ]
    cited = " ".join(sources[c.chunk_id].text for c in draft.citations if c.chunk_id in sources)
    known = numbers_in(" ".join([cited, ticket.text, ticket.id, ticket.creator_handle or ""]))
    problems += [
        Problem(
            kind=ProblemKind.UNGROUNDED_FIGURE,
            detail=f"states {n}, which no cited passage and not the ticket states",
            figure=n,
        )
        for n in sorted(numbers_in(text) - known)
    ]
    for doc_id in dict.fromkeys(c.doc_id for c in draft.citations):
        sop = grounding.library.documents.get(doc_id)
        said = [phrase for phrase in never_say(sop) if phrase.casefold() in text.casefold()] if sop else []
        problems += [
            Problem(
                kind=ProblemKind.NEVER_SAY,
                detail=f'says "{phrase}", on the never-say list of {doc_id}',
                citation=doc_id,
            )
            for phrase in said
        ]
    secrets = [
        match.group(0)
        for flag in taxonomy.secret_flags
        for pattern in taxonomy.flag_patterns.get(flag, [])
        for match in pattern.finditer(ticket.text)
    ]
    if any(secret in text for secret in secrets):
        problems.append(
            Problem(kind=ProblemKind.SECRET_REPEATED, detail="repeats a secret or card number from the ticket")
        )
    return list(dict.fromkeys(problems))


def _reads_as(passage: Passage, version: str, grounding: Grounding) -> bool:
    """The passage is of the cited version, and its text is that version's: every line under its heading line
    (document title and section) stands in the document's sections."""
    doc = grounding.library.documents.get(passage.doc_id)
    if doc is None or doc.version != version or passage.doc_version != version:
        return False
    sections = "\n".join(s.text for s in doc.sections)
    return all(line.strip() in sections for line in passage.text.split("\n")[1:])


def numbers_in(text: str) -> set[str]:
    """Numbers as written, thousands separators and leading zeros aside ("10,000" and "10000" match)."""
    return {n.replace(",", "").lstrip("0") or "0" for n in _NUMBER.findall(text)}
