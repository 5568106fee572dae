"""Check a document's Markdown as a writer types it: parsed by the loader's own parser with no file behind it,
then against the rest of the library as an ingest would check it, each problem with the field and the line.

The loader stops at a document's first problem, so a text shows one problem of its own at a time (fix it, the
next one shows); a change that breaks another document (a figure it used, removed) is listed under that file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from copilot.domain import SopDocument
from copilot.domain.placeholders import figures_used
from copilot.domain.sop_format import SOP_SECTIONS
from copilot.domain.taxonomy import Taxonomy
from knowledge_base.conflicts import DOC_ID, Conflict, figure_rows
from knowledge_base.library import LibraryConflict, SopLibrary, cross_checked
from knowledge_base.loader import SopError, parse_document

_TEMPLATE_NAMED = re.compile(r"^([a-z0-9_]+) \[([a-z]{2})\](?:: |$)")
_PLACEHOLDER_NAMED = re.compile(r"(\{\{[^{}]*\}\})")
_QUOTED = re.compile(r"'([^']+)'")
_GOT_EVERYTHING = re.compile(r" \(got \{.*\}\)$", re.DOTALL)


@dataclass(frozen=True)
class Problem:
    """One thing that stops a text being published: where (field or section, and line) and what."""

    field: str  # a front-matter field, a section title, or "front matter"
    line: int | None  # 1-based line of the text; None when the problem is in another document
    message: str
    document: str  # the file it is in: this text's, or another document's that the change breaks

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{self.document}: {where}{self.field}: {self.message}"


@dataclass(frozen=True)
class Checked:
    document: SopDocument | None  # the parsed document, None when it has a problem of its own
    problems: list[Problem] = field(default_factory=list)  # any of these stops it being saved or published
    warnings: list[Problem] = field(default_factory=list)  # the library's warnings that involve it

    @property
    def ok(self) -> bool:
        return not self.problems


def check_markdown(text: str, *, doc_id: str, taxonomy: Taxonomy, library: SopLibrary) -> Checked:
    """Parse `text` as the file `<doc_id>.md` and check it against `library` with the document in it (replacing
    its published version). Never raises for a bad text: its problems are returned."""
    name = f"{doc_id}.md"
    try:
        document = parse_document(text, path=Path(name), taxonomy=taxonomy)
    except SopError as exc:
        return Checked(None, [_located(exc, text, name)])
    others = {key: doc for key, doc in library.documents.items() if key != doc_id}
    try:
        checked = cross_checked({**others, doc_id: document})  # this document last: a clash is blamed on it
    except LibraryConflict as exc:
        return Checked(document, [_of_conflict(c, text, name) for c in exc.errors])
    except SopError as exc:
        return Checked(document, [_located(exc, text, name)])
    warnings = [_of_conflict(c, text, name) for c in checked.conflicts if name in c.files]
    return Checked(document, warnings=warnings)


def _of_conflict(conflict: Conflict, text: str, name: str) -> Problem:
    """A conflict ('<files>: <field>: <problem>'), located in this text when it involves it."""
    _, _, rest = conflict.message.partition(": ")
    field_name, _, message = rest.partition(": ")
    if not message:  # "<files>: <problem>" naming no field (a reference, two SOPs for one situation)
        field_name, message = "library", rest
    if name not in conflict.files:  # another document that this text breaks: its lines are not this text's
        return Problem(field=field_name, line=None, message=message, document=conflict.files[0])
    line = _line_of(text, field_name, message, None) if field_name != "library" else None
    return Problem(field=field_name, line=line, message=message, document=name)


def _located(exc: SopError, text: str, name: str) -> Problem:
    """The loader's '<file>: <field>: <problem>' as a Problem, with the line of the text it is about."""
    document, _, rest = str(exc).partition(": ")
    field_name, _, message = rest.partition(": ")
    message = _GOT_EVERYTHING.sub("", message)  # a missing field's "got" is the whole front matter: noise here
    if isinstance(exc.__cause__, yaml.MarkedYAMLError):  # its own text numbers lines from the YAML block
        cause = exc.__cause__
        message = f"not valid YAML: {cause.problem or ''} {cause.context or ''}".strip()
    if document != name:  # another document that this text breaks: its lines are not this text's
        return Problem(field=field_name, line=None, message=message, document=document)
    return Problem(field=field_name, line=_line_of(text, field_name, message, exc), message=message, document=name)


def _line_of(text: str, field_name: str, message: str, exc: SopError | None) -> int:
    lines = text.splitlines()
    front_end = next((n for n, line in enumerate(lines[1:], start=1) if line.strip() == "---"), 0)
    if field_name == "front matter":
        cause = exc.__cause__ if exc is not None else None
        mark = (cause.context_mark or cause.problem_mark) if isinstance(cause, yaml.MarkedYAMLError) else None
        return mark.line + 2 if mark is not None else 1  # the YAML block starts on line 2
    key = field_name.split(".")[0]
    header = _first(lines[1:front_end], rf"^{re.escape(key)}\s*:", start=2)
    if header is not None:
        return header
    if key == "sections":  # a missing section: where it should go, before the next one the text has
        missing = next((s for s in SOP_SECTIONS if f"'## {s}'" in message), None)
        later = SOP_SECTIONS[SOP_SECTIONS.index(missing) + 1 :] if missing else ()
        found = [_first(lines, rf"^##\s+{re.escape(s)}\s*$") for s in later]
        return next((n for n in found if n is not None), len(lines) or 1)
    section = _first(lines, rf"^##\s+{re.escape(field_name)}\s*$")
    if section is None:
        return front_end + 1 if front_end else 1  # a field that is missing: the front matter's closing line
    template = _TEMPLATE_NAMED.match(message)
    if template is None:
        if quoted := _QUOTED.search(message):  # a figure row, say: the line stating it
            return _first(lines, rf"\|\s*{re.escape(quoted.group(1))}\s*\|", start=1, after=section) or section
        return section
    heading = _first(lines, rf"^###\s+{re.escape(template.group(1))}\s+\[{template.group(2)}\]", after=section)
    if heading is None:
        return section
    placeholder = _PLACEHOLDER_NAMED.search(message)
    if placeholder:
        return _first(lines, re.escape(placeholder.group(1)), after=heading) or heading
    return heading


def _first(lines: list[str], pattern: str, *, start: int = 1, after: int = 0) -> int | None:
    """The 1-based number of the first line matching `pattern` (lines numbered from `start`), past line `after`."""
    compiled = re.compile(pattern)
    for number, line in enumerate(lines, start=start):
        if number > after and compiled.search(line):
            return number
    return None


@dataclass(frozen=True)
class Referrer:
    """An active document that points to another: what retiring that other one would leave dangling."""

    doc_id: str
    how: str  # "names it in Steps", "supersedes it", "uses its figure 'payout.min_withdrawal_usd'"

    def __str__(self) -> str:
        return f"{self.doc_id} ({self.how})"


def referrers_of(doc_id: str, library: SopLibrary) -> list[Referrer]:
    """Every active document other than `doc_id` that names it in its text, supersedes it, or fills a template
    with a figure it states; in library order, one line per way it refers."""
    target = library.documents.get(doc_id)
    stated = {key for key, _ in figure_rows(target)} if target else set()
    found: list[Referrer] = []
    for doc in library.documents.values():
        if doc.id == doc_id or doc.status != "active":
            continue
        if doc.supersedes == doc_id:
            found.append(Referrer(doc.id, "supersedes it"))
        named_in = [s.title for s in doc.sections if doc_id in DOC_ID.findall(s.text)]
        if named_in:
            found.append(Referrer(doc.id, f"names it in {', '.join(named_in)}"))
        used = sorted({key for t in doc.templates for key in figures_used(t.body)} & stated)
        if used:
            found.append(Referrer(doc.id, f"uses its figures {', '.join(used)}"))
    return found
