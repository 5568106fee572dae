"""Read SOP and policy Markdown files into validated SopDocuments.

Every error names the file and the field or section at fault, so an SOP writer can fix it at once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from copilot.domain import ReplyTemplate, SopDocument, SopSection
from copilot.domain.placeholders import PlaceholderError, check_template
from copilot.domain.sop_format import ALL_LOBS, SOP_SECTIONS, Section
from copilot.domain.taxonomy import Taxonomy

_TEMPLATE_HEADING = re.compile(r"^###\s+([a-z0-9_]+)\s+\[([a-z]{2})\]\s*$", re.MULTILINE)
_FIGURE_ROW = re.compile(r"^\|\s*([a-z0-9_.]+)\s*\|\s*([^|]+?)\s*\|.*\|\s*$", re.MULTILINE)


class SopError(ValueError):
    """A document that cannot be used, with the file and what is wrong."""


def load_document(path: Path, taxonomy: Taxonomy) -> SopDocument:
    """Parse and validate one file; raises SopError('<file>: <field>: <problem>')."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SopError(f"{path.name}: not UTF-8 text") from exc
    return parse_document(text, path=path, taxonomy=taxonomy)


def parse_document(text: str, *, path: Path, taxonomy: Taxonomy) -> SopDocument:
    """Parse and validate a document's Markdown as the file at `path` would hold it (a file's text, or a version
    kept after the file changed); its content hash is the hash of the UTF-8 text. Raises SopError naming the file."""
    header, body = _split_front_matter(path, text)
    sections = _sections(body)
    fields = {
        **header,
        "sections": sections,
        "templates": _templates(path, sections),
        "figures": _figures(sections),
        "content_hash": content_hash(text),
        "source_path": str(path),
        "base_language": taxonomy.fallback_language,
    }
    try:
        doc = SopDocument.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise SopError(f"{path.name}: {field}: {first['msg']} (got {first.get('input')!r})") from exc
    _check_against_taxonomy(path, doc, taxonomy)
    _check_structure(path, doc)
    return doc


def content_hash(text: str) -> str:
    """What a document version is known by: the SHA-256 of its UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_markdown(text: str, *, name: str) -> tuple[dict[str, object], list[SopSection], list[ReplyTemplate]]:
    """The front matter, `## ` sections and reply templates of a document's Markdown with no file behind it:
    the text of a version as it was published, kept after the file changed. Parsed as `load_document` parses a
    file, without checking it again; raises SopError naming `name` when the text cannot be read."""
    path = Path(name)
    header, body = _split_front_matter(path, text)
    sections = _sections(body)
    return header, sections, _templates(path, sections)


def _split_front_matter(path: Path, text: str) -> tuple[dict[str, object], str]:
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n(.*)$", text, re.DOTALL)
    if not match:
        raise SopError(f"{path.name}: front matter: the file must start with a '---' YAML block closed by '---'")
    try:
        header = _front_matter(match.group(1))
    except yaml.YAMLError as exc:
        raise SopError(f"{path.name}: front matter: not valid YAML: {exc}") from exc
    if not isinstance(header, dict):
        raise SopError(f"{path.name}: front matter: expected key: value pairs")
    for forbidden in ("sections", "templates", "figures", "content_hash", "source_path", "base_language"):
        if forbidden in header:
            raise SopError(f"{path.name}: {forbidden}: not a front-matter field")
    return header, match.group(2)


def _front_matter(block: str) -> object:
    """The YAML block read by libyaml where PyYAML has it (a tenth of the time: every ingest and every new library
    version reads all documents), by PyYAML's own parser otherwise. A block libyaml refuses is read again by
    PyYAML's, so a writer is shown the same message, with the same line, on every machine."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(block, Loader=fast)  # CSafeLoader: the safe loader, in C
        except yaml.YAMLError:
            pass
    return yaml.safe_load(block)


def _sections(body: str) -> list[SopSection]:
    parts = re.split(r"^##\s+(.+?)\s*$", body, flags=re.MULTILINE)
    return [SopSection(title=title.strip(), text=text.strip()) for title, text in zip(parts[1::2], parts[2::2])]


def _templates(path: Path, sections: list[SopSection]) -> list[ReplyTemplate]:
    section = next((s for s in sections if s.title == Section.REPLY_TEMPLATES), None)
    if section is None:
        return []
    parts = _TEMPLATE_HEADING.split(section.text)
    if parts[0].strip():
        raise SopError(
            f"{path.name}: {Section.REPLY_TEMPLATES}: text before the first '### <template_id> [<locale>]' heading"
        )
    templates = []
    for template_id, locale, body in zip(parts[1::3], parts[2::3], parts[3::3]):
        body = body.strip()
        use_when = None
        first, _, rest = body.partition("\n")
        if first.lower().startswith("use when:"):
            use_when, body = first.split(":", 1)[1].strip(), rest.strip()
        if not body:
            raise SopError(f"{path.name}: {Section.REPLY_TEMPLATES}: template {template_id} [{locale}] is empty")
        templates.append(ReplyTemplate(template_id=template_id, locale=locale, use_when=use_when, body=body))
    return templates


def _figures(sections: list[SopSection]) -> dict[str, str]:
    section = next((s for s in sections if s.title == Section.FIGURES), None)
    if section is None:
        return {}
    return {k: v for k, v in _FIGURE_ROW.findall(section.text) if k != "figure"}


def _check_against_taxonomy(path: Path, doc: SopDocument, taxonomy: Taxonomy) -> None:
    if doc.lob != ALL_LOBS and doc.lob not in taxonomy.lobs:
        raise SopError(f"{path.name}: lob: unknown LOB {doc.lob!r}; valid: {ALL_LOBS}, {', '.join(taxonomy.lobs)}")
    for intent in doc.intents:
        lob = taxonomy.lob_of_intent.get(intent)
        if lob is None:
            raise SopError(f"{path.name}: intents: unknown intent {intent!r}")
        if doc.lob not in (ALL_LOBS, lob):
            raise SopError(f"{path.name}: intents: {intent!r} belongs to LOB {lob!r}, not {doc.lob!r}")
    for flag in doc.risk_flags:
        if flag not in taxonomy.risk_flags:
            raise SopError(f"{path.name}: risk_flags: unknown risk flag {flag!r}")
    if doc.tier not in taxonomy.tiers:
        raise SopError(f"{path.name}: tier: unknown tier {doc.tier!r}; valid: {', '.join(taxonomy.tiers)}")


def _check_structure(path: Path, doc: SopDocument) -> None:
    if path.stem != doc.id:
        raise SopError(f"{path.name}: id: {doc.id!r} must match the file name")
    if doc.requires_escalation and not doc.escalation_queue:
        raise SopError(f"{path.name}: escalation_queue: required when requires_escalation is true")
    if doc.doc_type == "policy":
        if not doc.figures and doc.section(Section.FIGURES) is not None:
            raise SopError(f"{path.name}: {Section.FIGURES}: no '| figure | value | meaning |' rows found")
        return
    titles = [s.title for s in doc.sections]
    missing = [s for s in SOP_SECTIONS if s not in titles]
    if missing:
        raise SopError(f"{path.name}: sections: missing '## {missing[0]}'")
    if not doc.templates:
        raise SopError(f"{path.name}: {Section.REPLY_TEMPLATES}: no '### <template_id> [<locale>]' template")
    for template in doc.templates:
        if template.locale not in doc.locales:
            raise SopError(
                f"{path.name}: {Section.REPLY_TEMPLATES}: {template.template_id} is in {template.locale!r}, "
                f"which is not in locales {doc.locales}"
            )
        try:
            check_template(template.body, figures=None)
        except PlaceholderError as exc:
            raise SopError(
                f"{path.name}: {Section.REPLY_TEMPLATES}: {template.template_id} [{template.locale}]: {exc}"
            ) from exc
