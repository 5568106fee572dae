"""A writer's change to an SOP, from draft revision to published file: save (checked as an ingest would check
it), diff against the published text, publish (version up, impact gate passed or overridden in writing), discard,
roll back to a kept version, retire.

The Markdown files stay the source of truth: publishing writes the file (atomically) and runs the ordinary
incremental ingest, which re-embeds only that document and keeps the new version's text for citations. If the
ingest refuses the library, the file is put back as it was and the revision stays a draft.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from copilot.domain import SopDocument
from copilot.domain.accounts import Actor
from copilot.domain.records import AuditAction
from copilot.domain.revisions import RevisionStatus, SopRevision, next_patch, version_key, with_field
from copilot.pipeline import ingest
from copilot.services import Services
from copilot.store.sop_revisions import RevisionNotDraft
from knowledge_base.checking import Checked, Problem, Referrer, check_markdown, referrers_of
from knowledge_base.index import IngestReport
from knowledge_base.library import SopLibrary, load_library
from knowledge_base.loader import SopError

logger = logging.getLogger(__name__)
_DOC_ID = re.compile(r"^(SOP|POL)-[A-Z0-9]+(-[A-Z0-9]+)*$")  # as SopDocument.id: also keeps paths in sop_dir
# One publish at a time in a process: each writes a file and ingests the whole folder.
_publishing = threading.Lock()
# The folder's library as last loaded, by what its files were then (name, size, mtime): the editor checks a text
# against it on every keystroke pause, and loading ~40 files each time would be slow.
_loaded: dict[Path, tuple[tuple[tuple[str, int, int], ...], SopLibrary]] = {}


class DocumentNotFound(KeyError):
    def __str__(self) -> str:
        return f"no SOP document {self.args[0]!r} in the library"


class RevisionInvalid(ValueError):
    """A text that cannot be published as it is: its problems, each with the field and line."""

    def __init__(self, doc_id: str, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"{doc_id}: the text has {len(problems)} problem(s): {listed}{more}")


class PublishRefused(ValueError):
    """Publishing would break a rule: the version did not go up, or the impact gate neither passed nor was
    overridden in writing."""


class RetireNeedsConfirmation(ValueError):
    """Other documents point to the one being retired: the writer must see them and confirm."""

    def __init__(self, doc_id: str, referrers: list[Referrer]) -> None:
        self.referrers = referrers
        super().__init__(
            f"{len(referrers)} active document(s) refer to {doc_id}: {', '.join(str(r) for r in referrers)}; "
            "confirm to retire it anyway"
        )


class DocumentSummary(BaseModel):
    """A document as the library list shows it."""

    id: str
    title: str
    doc_type: str
    lob: str
    version: str
    owner: str
    status: str
    in_force: bool = Field(description="Active, effective today and not superseded: what drafting uses.")
    effective_date: dt.date
    last_reviewed: dt.date | None = Field(description="When a writer last reviewed it; null: never.")
    kept_versions: list[str] = Field(description="Every version kept for citations, oldest first.")
    open_drafts: int = Field(description="Draft revisions not yet published or discarded.")


def folder_library(*, services: Services) -> tuple[SopLibrary, SopError | None]:
    """The SOP folder's library as the next ingest will load it, retired and not-yet-effective documents included:
    what the workbench edits (the copilot's own library holds only what is in force). When a file of the folder
    is broken, the library in force and the error, which the writer must see (no publish can succeed until the
    file is fixed)."""
    folder = services.settings.sop_dir
    try:
        stamp = tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.glob("*.md")))
        kept = _loaded.get(folder)
        if kept is None or kept[0] != stamp:
            _loaded[folder] = kept = (stamp, load_library(folder, services.taxonomy))
        return kept[1], None
    except SopError as exc:
        return services.library, exc


def documents(*, services: Services) -> list[DocumentSummary]:
    """Every document of the SOP folder (or, while a file of it is broken, of the library in force), by id."""
    library, _ = folder_library(services=services)
    in_force = {doc.id for doc in library.active()}
    kept = services.sop_versions.version_numbers()
    drafts = services.sop_revisions.drafts_per_document()
    return [
        DocumentSummary(
            **doc.model_dump(
                include={"id", "title", "doc_type", "lob", "version", "owner", "status", "effective_date"}
            ),
            in_force=doc.id in in_force,
            last_reviewed=doc.last_reviewed,
            kept_versions=list(dict.fromkeys(kept.get(doc.id, []))),
            open_drafts=drafts.get(doc.id, 0),
        )
        for doc in sorted(library.documents.values(), key=lambda d: d.id)
    ]


def published(doc_id: str, *, services: Services) -> tuple[SopDocument, str]:
    """The document as its file holds it, and the file's text; raises DocumentNotFound."""
    doc = folder_library(services=services)[0].documents.get(doc_id)
    if doc is None:
        raise DocumentNotFound(doc_id)
    return doc, Path(doc.source_path).read_text(encoding="utf-8")


def check(doc_id: str, text: str, *, services: Services) -> Checked:
    """What stands between this text and publishing it as `doc_id`: its problems (field and line), and as a
    warning a version that is not above the published one (publishing refuses it)."""
    if not _DOC_ID.match(doc_id):
        bad = Problem("id", None, f"{doc_id!r} is not a document id like SOP-CR-03 or POL-REWARDS", f"{doc_id}.md")
        return Checked(None, [bad])
    library, _ = folder_library(services=services)
    checked = check_markdown(text, doc_id=doc_id, taxonomy=services.taxonomy, library=library)
    current = library.documents.get(doc_id)
    if checked.document is None or current is None:
        return checked
    problem = _version_not_raised(checked.document, current, text)
    return Checked(checked.document, checked.problems, [*checked.warnings, *([problem] if problem else [])])


def _version_not_raised(new: SopDocument, current: SopDocument, text: str) -> Problem | None:
    if version_key(new.version) > version_key(current.version):
        return None
    line = next((n for n, row in enumerate(text.splitlines(), 1) if row.startswith("version:")), None)
    return Problem(
        "version", line, f"{new.version} is not above the published version {current.version}", f"{new.id}.md"
    )


def save_revision(doc_id: str, text: str, *, services: Services, by: Actor) -> SopRevision:
    """Keep `text` as a draft revision of `doc_id` (a new document when the library has none): the copilot does
    not use it until it is published. Raises RevisionInvalid when it does not check."""
    checked = check(doc_id, text, services=services)
    if checked.problems:
        raise RevisionInvalid(doc_id, checked.problems)
    current = folder_library(services=services)[0].documents.get(doc_id)
    return services.sop_revisions.save(doc_id, text, base_version=current.version if current else None, by=by)


DiffKind = Literal["same", "changed", "removed", "added"]


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff: the published line on the left, the revision's on the right."""

    kind: DiffKind
    old_line: int | None
    old: str | None
    new_line: int | None
    new: str | None


@dataclass(frozen=True)
class RevisionDiff:
    doc_id: str
    published_version: str | None  # None: a new document
    revision_version: str | None
    unified: str  # line-based, as `diff -u` prints it; empty when nothing changed
    rows: list[DiffRow]


def diff(revision: SopRevision, *, services: Services) -> RevisionDiff:
    """The revision against the document's published file (against nothing for a new document)."""
    current = folder_library(services=services)[0].documents.get(revision.doc_id)
    before = Path(current.source_path).read_text(encoding="utf-8") if current else ""
    old, new = before.splitlines(), revision.text.splitlines()
    name = f"{revision.doc_id}.md"
    unified = "\n".join(
        difflib.unified_diff(
            old,
            new,
            fromfile=f"{name} {current.version if current else '(new)'}",
            tofile=f"{name} revision {revision.id}",
            lineterm="",
        )
    )
    found = re.search(r"^version:\s*(\S+)", revision.text, re.MULTILINE)
    return RevisionDiff(
        doc_id=revision.doc_id,
        published_version=current.version if current else None,
        revision_version=found.group(1) if found else None,
        unified=unified,
        rows=_side_by_side(old, new),
    )


def _side_by_side(old: list[str], new: list[str]) -> list[DiffRow]:
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [DiffRow("same", i + 1, old[i], j + 1, new[j]) for i, j in zip(range(i1, i2), range(j1, j2))]
            continue
        for i, j in zip_longest(range(i1, i2), range(j1, j2)):
            kind: DiffKind = "changed" if i is not None and j is not None else "removed" if j is None else "added"
            rows.append(
                DiffRow(
                    kind,
                    None if i is None else i + 1,
                    None if i is None else old[i],
                    None if j is None else j + 1,
                    None if j is None else new[j],
                )
            )
    return rows


@dataclass(frozen=True)
class Published:
    revision: SopRevision
    version: str
    previous_version: str | None
    report: IngestReport


def publish(revision_id: int, *, services: Services, by: Actor, override_reason: str | None = None) -> Published:
    """Put a draft revision in force. Its version must be above the published one, and its impact preview must
    have passed, or `override_reason` say in writing why it is published anyway (the audit log keeps it).
    Raises RevisionNotFound, RevisionNotDraft, PublishRefused, RevisionInvalid, or the ingest's error (the file
    is put back as it was)."""
    revision = _draft(revision_id, services=services)
    reason = (override_reason or "").strip() or None
    if revision.impact_passed is not True and reason is None:
        raise PublishRefused(
            f"SOP revision {revision.id}: the impact preview has {revision.gate.replace('not run', 'not been run')}: "
            "run it until it passes, or publish with a written override reason"
        )
    return _publish(revision, services=services, by=by, action=AuditAction.SOP_PUBLISHED, reason=reason)


def discard(revision_id: int, *, services: Services, by: Actor) -> SopRevision:
    """Drop a draft revision (kept, marked discarded). Raises RevisionNotFound, RevisionNotDraft."""
    return services.sop_revisions.decide(revision_id, RevisionStatus.DISCARDED, by=by, action=AuditAction.SOP_DISCARDED)


def rollback(doc_id: str, to_version: str, *, services: Services, by: Actor) -> Published:
    """Publish the kept text of an earlier version again, as the next patch version above the one in force
    (only its `version:` line changes). Needs no impact run: the text was in force before. Raises
    DocumentNotFound, VersionNotFound, PublishRefused (already at that version), RevisionInvalid (the old text
    no longer checks against today's library)."""
    current, _ = published(doc_id, services=services)
    if to_version == current.version:
        raise PublishRefused(f"{doc_id} is at version {to_version} already: nothing to roll back")
    kept = services.sop_versions.get(doc_id, to_version)
    revision = save_revision(
        doc_id, with_field(kept.text, "version", next_patch(current.version)), services=services, by=by
    )
    return _publish(
        revision, services=services, by=by, action=AuditAction.SOP_ROLLED_BACK, reason=f"rollback to {to_version}"
    )


@dataclass(frozen=True)
class Retired:
    referrers: list[Referrer]
    published: Published


def referrers(doc_id: str, *, services: Services) -> list[Referrer]:
    """The active documents that point to `doc_id` (see knowledge_base.checking.referrers_of)."""
    published(doc_id, services=services)
    return referrers_of(doc_id, folder_library(services=services)[0])


def retire(doc_id: str, *, services: Services, by: Actor, confirm: bool) -> Retired:
    """Set the document's status to retired under the next patch version and publish it: the copilot stops using
    it. When other active documents point to it, `confirm` must say the writer has seen them. Raises
    DocumentNotFound, PublishRefused (retired already), RetireNeedsConfirmation."""
    current, text = published(doc_id, services=services)
    if current.status == "retired":
        raise PublishRefused(f"{doc_id} is retired already")
    pointing = referrers(doc_id, services=services)
    if pointing and not confirm:
        raise RetireNeedsConfirmation(doc_id, pointing)
    retired = with_field(with_field(text, "status", "retired"), "version", next_patch(current.version))
    revision = save_revision(doc_id, retired, services=services, by=by)
    done = _publish(
        revision,
        services=services,
        by=by,
        action=AuditAction.SOP_RETIRED,
        reason="retire",
        referrers=[str(r) for r in pointing],
    )
    return Retired(referrers=pointing, published=done)


def _publish(
    revision: SopRevision, *, services: Services, by: Actor, action: AuditAction, reason: str | None, **detail: object
) -> Published:
    with _publishing:
        revision = _draft(revision.id, services=services)  # a rival may have decided it while this one waited
        library, broken = folder_library(services=services)
        if broken is not None:
            raise broken  # a file of the folder must be fixed first: the ingest would refuse it
        checked = check_markdown(revision.text, doc_id=revision.doc_id, taxonomy=services.taxonomy, library=library)
        if checked.problems or checked.document is None:  # again: the library may have moved since the save
            raise RevisionInvalid(revision.doc_id, checked.problems)
        current = library.documents.get(revision.doc_id)
        if current is not None and _version_not_raised(checked.document, current, revision.text):
            raise PublishRefused(
                f"{revision.doc_id}: version {checked.document.version} of revision {revision.id} is not above the "
                f"published version {current.version}: raise `version:` in the text"
            )
        path = services.settings.sop_dir / f"{revision.doc_id}.md"
        before = path.read_bytes() if path.exists() else None
        _write_atomically(path, revision.text.encode("utf-8"))
        try:
            report = ingest(services, by=by)
        except Exception:
            _restore(path, before, services=services, by=by)
            raise
        decided = services.sop_revisions.decide(
            revision.id,
            RevisionStatus.PUBLISHED,
            by=by,
            action=action,
            override_reason=reason,
            version=checked.document.version,
            previous_version=current.version if current else None,
            impact=revision.gate,
            **detail,
        )
    return Published(decided, checked.document.version, current.version if current else None, report)


def _draft(revision_id: int, *, services: Services) -> SopRevision:
    revision = services.sop_revisions.get(revision_id)
    if revision.status is not RevisionStatus.DRAFT:
        raise RevisionNotDraft(f"SOP revision {revision_id} is {revision.status}, not a draft: it cannot change")
    return revision


def _restore(path: Path, before: bytes | None, *, services: Services, by: Actor) -> None:
    """Put the file back as it was before a publish whose ingest failed, and the index with it."""
    if before is None:
        path.unlink(missing_ok=True)
    else:
        _write_atomically(path, before)
    try:
        ingest(services, by=by)  # the failed ingest may have stopped after loading the new text
    except Exception as exc:  # the folder was bad already, or the index is down: say so, and raise the first error
        logger.warning("after a failed publish, the SOP folder could not be ingested again: %s", exc)


def _write_atomically(path: Path, content: bytes) -> None:
    """Write the file so that a reader (an ingest in another process) sees the old text or the new, never half."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
