"""The whole SOP library: every document of a folder, checked against each other."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from copilot.domain import SopDocument
from copilot.domain.placeholders import PlaceholderError, check_template
from copilot.domain.sop_format import Section
from copilot.domain.taxonomy import Taxonomy
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

    def active(self) -> list[SopDocument]:
        """Documents in force today: active, effective, and not superseded by another in force."""
        day = dt.date.today()
        live = [d for d in self.documents.values() if d.status == "active" and d.effective_date <= day]
        superseded = {d.supersedes for d in live if d.supersedes}
        return [d for d in live if d.id not in superseded]

    def figure_values(self) -> dict[str, str]:
        return {key: f.value for key, f in self.figures.items()}

    def escalation_sop_for(self, flag: str) -> SopDocument | None:
        """The active SOP that handles a risk flag, if any."""
        return next((d for d in self.active() if flag in d.risk_flags), None)


def load_library(sop_dir: Path, taxonomy: Taxonomy) -> SopLibrary:
    """Load and cross-check every document in a folder; raises SopError naming the file at fault."""
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
    figures: dict[str, Figure] = {}
    for doc in documents.values():
        for key, value in doc.figures.items():
            if key in figures:
                raise SopError(f"{doc.id}.md: {Section.FIGURES}: {key!r} is also stated in {figures[key].doc_id}")
            figures[key] = Figure(key=key, value=value, doc_id=doc.id)
    for doc in documents.values():
        if doc.supersedes and doc.supersedes not in documents:
            raise SopError(f"{doc.id}.md: supersedes: no document {doc.supersedes!r}")
        for template in doc.templates:
            try:
                check_template(template.body, figures=set(figures))
            except PlaceholderError as exc:
                raise SopError(
                    f"{doc.id}.md: {Section.REPLY_TEMPLATES}: {template.template_id} [{template.locale}]: {exc}"
                ) from exc
    return SopLibrary(documents=documents, figures=figures)
