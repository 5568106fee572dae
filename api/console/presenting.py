"""How the console shows a draft and a published SOP: the reply with its policy figures marked, citations as
links to the text they cite, an edit as diff lines, and a published version as anchored sections.

Pure functions over domain objects; the pages in api/console/work.py render what they return. Markup is
built here with markupsafe, so ticket and reply text is escaped and only our own tags reach the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from markupsafe import Markup, escape

from copilot.domain import Draft, ReplyTemplate, SopSection
from copilot.domain.placeholders import figures_used
from copilot.domain.sop_format import Section
from knowledge_base.chunking import slug, template_section
from knowledge_base.library import Figure, SopLibrary
from knowledge_base.loader import read_markdown


def draft_figures(draft: Draft, library: SopLibrary) -> list[Figure]:
    """The policy figures the draft's SOP template states (the SOP is the one its first citation names);
    none when the draft was written without a template."""
    if not draft.template or not draft.citations:
        return []
    sop = library.documents.get(draft.citations[0].doc_id)
    if sop is None:
        return []
    templates = [t for t in sop.templates if t.template_id == draft.template]
    # Each locale of a template states the same figures; the draft's own locale is the one it was filled from.
    template = next((t for t in templates if t.locale == draft.language), templates[0] if templates else None)
    if template is None:
        return []
    names = dict.fromkeys(figures_used(template.body))
    return [library.figures[name] for name in names if name in library.figures]


def marked_reply(reply: str, figures: list[Figure]) -> Markup:
    """The reply, escaped, with every stated value of these figures in <mark class="figure"> titled with the
    policy and figure it comes from. A value is marked only as a whole number or phrase ("10" is not marked
    inside "120" or "10,000"); a value two figures share names both."""
    by_value: dict[str, list[Figure]] = {}
    for figure in figures:
        by_value.setdefault(figure.value, []).append(figure)
    if not by_value:
        return escape(reply)
    values = sorted(by_value, key=len, reverse=True)  # "USD 10" before "10"
    pattern = re.compile(r"(?<![\w.,])(?:" + "|".join(re.escape(v) for v in values) + r")(?![\w]|[.,]\d)")
    parts: list[Markup] = []
    at = 0
    for match in pattern.finditer(reply):
        title = "; ".join(f"{f.doc_id}: {f.key}" for f in by_value[match.group(0)])
        parts += [
            escape(reply[at : match.start()]),
            Markup('<mark class="figure" title="{}">{}</mark>').format(title, match.group(0)),
        ]
        at = match.end()
    parts.append(escape(reply[at:]))
    return Markup("").join(parts)


@dataclass(frozen=True)
class CitationLink:
    label: str
    section: str
    href: str


def citation_href(doc_id: str, version: str, section: str) -> str:
    """The citation view of a document at a version, scrolled to the cited section."""
    return f"/console/sop/{quote(doc_id, safe='')}/versions/{quote(version, safe='')}#{slug(section)}"


def citation_links(draft: Draft) -> list[CitationLink]:
    """One link per cited section, in citation order (a long section is cited once per passage of it)."""
    links: dict[str, CitationLink] = {}
    for c in draft.citations:
        href = citation_href(c.doc_id, c.doc_version, c.section)
        links.setdefault(href, CitationLink(label=f"{c.doc_id} {c.doc_version}", section=c.section, href=href))
    return list(links.values())


def diff_lines(diff: str | None) -> list[tuple[str, str]]:
    """A unified diff as (css class, line) pairs: 'add', 'del', 'hunk', 'meta' or '' for context."""
    lines = []
    for line in (diff or "").splitlines():
        if line.startswith(("+++", "---")):
            kind = "meta"
        elif line.startswith("@@"):
            kind = "hunk"
        else:
            kind = {"+": "add", "-": "del"}.get(line[:1], "")
        lines.append((kind, line))
    return lines


@dataclass(frozen=True)
class TemplatePart:
    anchor: str
    template: ReplyTemplate


@dataclass(frozen=True)
class SectionPart:
    anchor: str
    section: SopSection
    templates: list[TemplatePart] = field(default_factory=list)


@dataclass(frozen=True)
class PublishedPage:
    title: str
    version: str
    effective_date: str
    sections: list[SectionPart]

    @property
    def anchors(self) -> set[str]:
        return {a for s in self.sections for a in (s.anchor, *(t.anchor for t in s.templates))}


def published_page(doc_id: str, version: str, text: str) -> PublishedPage:
    """A published version's Markdown as the citation view shows it. Every `## ` section is anchored by the
    slug a citation of it links to; under Reply templates, each template is anchored as its own section, as
    its passage was cited."""
    header, sections, templates = read_markdown(text, name=f"{doc_id}.md")
    parts = []
    for section in sections:
        own = (
            [TemplatePart(slug(template_section(t.template_id, t.locale)), t) for t in templates]
            if section.title == Section.REPLY_TEMPLATES
            else []
        )
        parts.append(SectionPart(anchor=slug(section.title), section=section, templates=own))
    return PublishedPage(
        title=str(header.get("title") or doc_id),
        version=str(header.get("version") or version),
        effective_date=str(header.get("effective_date") or ""),
        sections=parts,
    )
