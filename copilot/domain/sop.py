"""SOP and policy documents, the passages cut from them, and citations to those passages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReplyTemplate(BaseModel):
    """One macro of an SOP: `### <template_id> [<locale>]` under `## Reply templates`."""

    model_config = ConfigDict(frozen=True)

    template_id: str
    locale: str
    use_when: str | None = None
    body: str


class SopSection(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    text: str


class SopDocument(BaseModel):
    """A validated SOP or policy file. Sections keep their file order."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^(SOP|POL)-[A-Z0-9]+(-[A-Z0-9]+)*$")
    title: str = Field(min_length=1)
    doc_type: Literal["sop", "policy"]
    lob: str
    intents: list[str] = []
    risk_flags: list[str] = []
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    effective_date: dt.date
    owner: str = Field(min_length=1)
    locales: list[str] = Field(min_length=1)
    tier: str
    requires_escalation: bool = False
    escalation_queue: str | None = None
    status: Literal["active", "retired"] = "active"
    supersedes: str | None = None
    last_reviewed: dt.date | None = None  # when a writer last checked it still holds; None: never

    sections: list[SopSection] = []
    templates: list[ReplyTemplate] = []
    figures: dict[str, str] = {}
    content_hash: str = ""
    source_path: str = ""
    # The language its sections are written in (each reply template names its own locale): the library's
    # base language, which is the taxonomy's fallback_language. Set by the loader, not the front matter.
    base_language: str

    def section(self, title: str) -> SopSection | None:
        return next((s for s in self.sections if s.title.lower() == title.lower()), None)

    def templates_in(self, locale: str) -> list[ReplyTemplate]:
        return [t for t in self.templates if t.locale == locale]


class Passage(BaseModel):
    """A retrieved chunk of a document, with the score it was retrieved with (higher is better)."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    doc_id: str
    doc_version: str
    doc_type: str
    title: str
    section: str
    lob: str
    intents: list[str] = []
    text: str
    score: float = 0.0


class Citation(BaseModel):
    """Where a draft's content comes from: a document, its version, and a section."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    doc_version: str
    section: str
    chunk_id: str


class PublishedVersion(BaseModel):
    """One version of a document as it was published: its full Markdown, kept after any later edit."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    version: str
    content_hash: str
    text: str
    source_path: str
    published_by: str
    published_at: dt.datetime
