"""What two documents of one library say against each other: the one place the library is cross-checked.

An error makes drafts wrong or ambiguous, so `load_library` (and so every ingest) refuses a library that has
one; a warning is reported and the library is used. Every conflict names the files at fault:

- `same_situation` (error): two active SOPs claim the same intent (or handle the same risk flag) for the same
  situation. Measured as: same intent or flag, LOBs that overlap (equal, or one is "all"), overlapping locales,
  neither supersedes the other, and neither's "When this applies" names the other (which is how a writer tells
  the two situations apart: "for X use SOP-..."). The copilot would pick between them by retrieval score alone.
- `figure_values` (error): one figure key stated with two different values; stated twice with the same value is a
  warning (the format says a figure is stated once).
- `undefined_figure` (error): a template names a figure no document states; a warning when only a retired
  document states it.
- `unknown_supersedes` (error): `supersedes` names no document of the library.
- `retired_reference` (warning): an active document's text points agents to a retired (or superseded) one.
- `unknown_reference` (warning): an active document's text names a document id the library does not hold.
- `invalid_document` (error, from `conflicts_in_folder` only): a file that is not a valid document on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.domain import SopDocument
from copilot.domain.placeholders import figures_used
from copilot.domain.sop_format import ALL_LOBS, Section
from copilot.domain.taxonomy import Taxonomy
from knowledge_base.loader import SopError

if TYPE_CHECKING:
    from knowledge_base.library import SopLibrary

Severity = Literal["error", "warning"]
ConflictKind = Literal[
    "invalid_document",
    "same_situation",
    "figure_values",
    "undefined_figure",
    "unknown_supersedes",
    "retired_reference",
    "unknown_reference",
]
DOC_ID = re.compile(r"\b(?:SOP|POL)-[A-Z0-9]+(?:-[A-Z0-9]+)*\b")
# A row of a Figures table, as the loader reads it (the loader keeps the last row of a key; this sees them all).
FIGURE_ROW = re.compile(r"^\|\s*([a-z0-9_.]+)\s*\|\s*([^|]+?)\s*\|.*\|\s*$", re.MULTILINE)


class Conflict(BaseModel):
    """One thing documents of the library say against each other, with every file it involves."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    kind: ConflictKind
    message: str = Field(description="What is wrong, naming the files; starts with the first file's name.")
    files: list[str] = Field(description="The file names involved, the one to fix first.")

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def find_conflicts(library: SopLibrary) -> list[Conflict]:
    """Every conflict in the library, errors first, each kind in the library's document order."""
    docs = list(library.documents.values())
    found = [
        *_same_situation(docs),
        *_figure_values(docs),
        *_undefined_figures(docs),
        *_supersedes(library),
        *_references(library),
    ]
    return sorted(found, key=lambda c: c.severity != "error")


def conflicts_in_folder(sop_dir: Path, taxonomy: Taxonomy) -> list[Conflict]:
    """The conflicts of the library a folder holds now, as the next ingest would find them. A file that is not a
    valid document on its own is reported as an `invalid_document` error (the loader stops at the first)."""
    from knowledge_base.library import SopLibrary, read_documents  # the library module is built on this one

    try:
        documents = read_documents(sop_dir, taxonomy)
    except SopError as exc:
        name = str(exc).split(":", 1)[0]
        return [Conflict(severity="error", kind="invalid_document", message=str(exc), files=[name])]
    return find_conflicts(SopLibrary.of(documents))


def errors_of(conflicts: Iterable[Conflict]) -> list[Conflict]:
    return [c for c in conflicts if c.severity == "error"]


def figure_rows(doc: SopDocument) -> list[tuple[str, str]]:
    """Every (figure, value) row of a document's Figures table, duplicates included, in table order."""
    section = doc.section(Section.FIGURES)
    if section is None:
        return []
    return [(key, value) for key, value in FIGURE_ROW.findall(section.text) if key != "figure"]


def file_of(doc: SopDocument) -> str:
    return Path(doc.source_path).name if doc.source_path else f"{doc.id}.md"


def _same_situation(docs: list[SopDocument]) -> Iterator[Conflict]:
    active = [d for d in docs if d.status == "active" and d.doc_type == "sop"]
    for a, b in combinations(active, 2):
        claims = [f"intent {i!r}" for i in a.intents if i in b.intents]
        claims += [f"risk flag {f!r}" for f in a.risk_flags if f in b.risk_flags]
        if not claims or not _lobs_overlap(a, b) or not set(a.locales) & set(b.locales):
            continue
        if b.id in (a.supersedes, *_applies_refs(a)) or a.id in (b.supersedes, *_applies_refs(b)):
            continue
        yield Conflict(
            severity="error",
            kind="same_situation",
            message=(
                f"{file_of(b)} and {file_of(a)}: both active, both claim {', '.join(claims)} for LOB "
                f"{b.lob if b.lob != ALL_LOBS else a.lob} in {', '.join(sorted(set(a.locales) & set(b.locales)))}, "
                f"and neither's '{Section.WHEN_THIS_APPLIES}' names the other: retire one, or say in "
                "'When this applies' when to use the other"
            ),
            files=[file_of(b), file_of(a)],
        )


def _lobs_overlap(a: SopDocument, b: SopDocument) -> bool:
    return a.lob == b.lob or ALL_LOBS in (a.lob, b.lob)


def _applies_refs(doc: SopDocument) -> set[str]:
    section = doc.section(Section.WHEN_THIS_APPLIES)
    return set(DOC_ID.findall(section.text)) if section else set()


def _figure_values(docs: list[SopDocument]) -> Iterator[Conflict]:
    first: dict[str, tuple[str, SopDocument]] = {}
    for doc in docs:
        for key, value in figure_rows(doc):
            if key not in first:
                first[key] = (value, doc)
                continue
            value_before, stated_in = first[key]
            where = f"{file_of(doc)}" if stated_in is doc else f"{file_of(doc)} and {file_of(stated_in)}"
            files = list(dict.fromkeys([file_of(doc), file_of(stated_in)]))
            if value != value_before:
                yield Conflict(
                    severity="error",
                    kind="figure_values",
                    message=f"{where}: {Section.FIGURES}: {key!r} is also stated in {stated_in.id} with another "
                    f"value ({value!r} here, {value_before!r} there); state it once",
                    files=files,
                )
            else:
                yield Conflict(
                    severity="warning",
                    kind="figure_values",
                    message=f"{where}: {Section.FIGURES}: {key!r} is also stated in {stated_in.id} (same value "
                    f"{value!r}); state it once",
                    files=files,
                )


def _undefined_figures(docs: list[SopDocument]) -> Iterator[Conflict]:
    stated_by: dict[str, list[SopDocument]] = {}
    for doc in docs:
        for key, _ in figure_rows(doc):
            stated_by.setdefault(key, []).append(doc)
    for doc in docs:
        for template in doc.templates:
            for key in dict.fromkeys(figures_used(template.body)):
                where = f"{Section.REPLY_TEMPLATES}: {template.template_id} [{template.locale}]"
                holders = stated_by.get(key, [])
                if not holders:
                    yield Conflict(
                        severity="error",
                        kind="undefined_figure",
                        message=f"{file_of(doc)}: {where}: {{{{fig:{key}}}}}: no policy states figure {key!r}",
                        files=[file_of(doc)],
                    )
                elif doc.status == "active" and all(h.status == "retired" for h in holders):
                    yield Conflict(
                        severity="warning",
                        kind="undefined_figure",
                        message=f"{file_of(doc)}: {where}: figure {key!r} is stated only by the retired "
                        f"{', '.join(file_of(h) for h in holders)}",
                        files=[file_of(doc), *(file_of(h) for h in holders)],
                    )


def _supersedes(library: SopLibrary) -> Iterator[Conflict]:
    for doc in library.documents.values():
        if doc.supersedes and doc.supersedes not in library.documents:
            yield Conflict(
                severity="error",
                kind="unknown_supersedes",
                message=f"{file_of(doc)}: supersedes: no document {doc.supersedes!r}",
                files=[file_of(doc)],
            )


def _references(library: SopLibrary) -> Iterator[Conflict]:
    """Documents an active document's text points to that agents cannot use (a `supersedes` is not a pointer)."""
    in_force = {d.id for d in library.active()}
    superseded = {d.supersedes for d in library.documents.values() if d.supersedes and d.id in in_force}
    for doc in library.documents.values():
        if doc.status != "active":
            continue
        named = dict.fromkeys(
            ref for s in doc.sections for ref in DOC_ID.findall(s.text) if ref not in (doc.id, doc.supersedes)
        )
        for ref in named:
            target = library.documents.get(ref)
            if target is None:
                yield Conflict(
                    severity="warning",
                    kind="unknown_reference",
                    message=f"{file_of(doc)}: names {ref}, which is not in the library",
                    files=[file_of(doc)],
                )
            elif target.status == "retired" or ref in superseded:
                state = "retired" if target.status == "retired" else "superseded"
                yield Conflict(
                    severity="warning",
                    kind="retired_reference",
                    message=f"{file_of(doc)}: still refers to {file_of(target)}, which is {state}",
                    files=[file_of(doc), file_of(target)],
                )
