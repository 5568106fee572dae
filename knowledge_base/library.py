"""The whole SOP library: every document of a folder, checked against each other."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

from copilot.domain import SopDocument
from copilot.domain.taxonomy import Taxonomy
from knowledge_base.conflicts import Conflict, errors_of, find_conflicts
from knowledge_base.loader import SopError, load_document

NOT_DOCUMENTS = {"README.md"}


@dataclass(frozen=True)
class Figure:
    key: str
    value: str
    doc_id: str


@dataclass(frozen=True)
class SopLibrary:
    """Documents by id and policy figures by key. Build it with `load_library`."""

    documents: dict[str, SopDocument]
    figures: dict[str, Figure] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)  # the warnings it was loaded with (errors refuse it)

    def active(self) -> list[SopDocument]:
        """Documents in force today: active, effective, and not superseded by another in force."""
        day = dt.date.today()
        live = [d for d in self.documents.values() if d.status == "active" and d.effective_date <= day]
        superseded = {d.supersedes for d in live if d.supersedes}
        return [d for d in live if d.id not in superseded]

    @classmethod
    def of(cls, documents: dict[str, SopDocument]) -> SopLibrary:
        """Documents already checked together (a published version): their figures by key."""
        figures = {key: Figure(key, value, doc.id) for doc in documents.values() for key, value in doc.figures.items()}
        return cls(documents=documents, figures=figures)

    def figure_values(self) -> dict[str, str]:
        return {key: f.value for key, f in self.figures.items()}

    def escalation_sop_for(self, flag: str) -> SopDocument | None:
        """The active SOP that handles a risk flag, if any."""
        return next((d for d in self.active() if flag in d.risk_flags), None)


class LibraryConflict(SopError):
    """Documents that are each valid but conflict with each other (knowledge_base/conflicts.py)."""

    def __init__(self, errors: list[Conflict]) -> None:
        more = f" (and {len(errors) - 1} more conflicts)" if len(errors) > 1 else ""
        super().__init__(f"{errors[0].message}{more}")
        self.errors = errors


def load_library(sop_dir: Path, taxonomy: Taxonomy) -> SopLibrary:
    """Load and cross-check every document in a folder; raises SopError naming the file at fault."""
    return cross_checked(read_documents(sop_dir, taxonomy))


def read_documents(sop_dir: Path, taxonomy: Taxonomy) -> dict[str, SopDocument]:
    """Every document of a folder, each valid on its own, not yet checked against each other; raises SopError
    naming the file at fault."""
    if not sop_dir.is_dir():
        raise SopError(f"{sop_dir}: not a folder of SOP documents")
    documents: dict[str, SopDocument] = {}
    for path in sorted(sop_dir.glob("*.md")):
        if path.name in NOT_DOCUMENTS:
            continue
        doc = load_document(path, taxonomy)
        if doc.id in documents:
            raise SopError(f"{path.name}: id: {doc.id!r} is also used by {Path(documents[doc.id].source_path).name}")
        documents[doc.id] = doc
    if not documents:
        raise SopError(f"{sop_dir}: no SOP documents (*.md) found")
    return documents


def cross_checked(documents: dict[str, SopDocument]) -> SopLibrary:
    """The library of these documents, each already valid on its own, checked against each other (figure keys
    stated once, every template figure stated by a policy, every `supersedes` naming a document, no two SOPs for
    one situation: knowledge_base/conflicts.py). Raises LibraryConflict (a SopError) naming the files of the first
    error; the warnings are kept on the library."""
    library = SopLibrary.of(documents)
    conflicts = find_conflicts(library)
    errors = errors_of(conflicts)
    if errors:
        raise LibraryConflict(errors)
    return replace(library, conflicts=conflicts)
