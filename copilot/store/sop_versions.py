"""Every SOP version the copilot published, kept whole, so a draft's citation can be read as it was."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from copilot.domain.accounts import Actor
from copilot.domain.drafts import utcnow
from copilot.domain.sop import PublishedVersion, SopDocument
from copilot.store.database import as_utc, ensure_schema
from copilot.store.tables import sop_versions


class VersionNotFound(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class SopVersionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def record(self, documents: list[tuple[SopDocument, str]], *, by: Actor) -> list[str]:
        """Keep each (document, its file's text) not kept before; returns 'ID version' of those newly kept."""
        now, kept = utcnow(), []
        with self.engine.begin() as conn:
            known = {
                (row.doc_id, row.content_hash)
                for row in conn.execute(select(sop_versions.c.doc_id, sop_versions.c.content_hash))
            }
            for doc, text in documents:
                if (doc.id, doc.content_hash) in known:
                    continue
                conn.execute(
                    insert(sop_versions).values(
                        doc_id=doc.id,
                        version=doc.version,
                        content_hash=doc.content_hash,
                        text=text,
                        source_path=doc.source_path,
                        published_by=by.name,
                        published_at=now,
                    )
                )
                kept.append(f"{doc.id} {doc.version}")
        return kept

    def get(self, doc_id: str, version: str) -> PublishedVersion:
        """The text of a document at a version (the latest kept under that number); raises VersionNotFound."""
        query = (
            select(sop_versions)
            .where(sop_versions.c.doc_id == doc_id, sop_versions.c.version == version)
            .order_by(sop_versions.c.id.desc())
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise VersionNotFound(f"no published version {version} of {doc_id!r}")
        return _version(dict(row))

    def contents_by_version(self) -> dict[tuple[str, str], set[str]]:
        """(doc id, version) -> the content hashes published under that number (one, unless an edit once went
        out without a version bump, before ingest refused that)."""
        query = select(sop_versions.c.doc_id, sop_versions.c.version, sop_versions.c.content_hash)
        found: dict[tuple[str, str], set[str]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                found.setdefault((row.doc_id, row.version), set()).add(row.content_hash)
        return found

    def with_hash(self, doc_id: str, content_hash: str) -> PublishedVersion | None:
        """The kept version of a document with this content, if it was ever published."""
        query = (
            select(sop_versions)
            .where(sop_versions.c.doc_id == doc_id, sop_versions.c.content_hash == content_hash)
            .order_by(sop_versions.c.id.desc())
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _version(dict(row))

    def version_numbers(self) -> dict[str, list[str]]:
        """Every document's kept version numbers, oldest first, without their texts."""
        query = select(sop_versions.c.doc_id, sop_versions.c.version).order_by(sop_versions.c.id)
        numbers: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                numbers.setdefault(row.doc_id, []).append(row.version)
        return numbers

    def versions(self, doc_id: str) -> list[PublishedVersion]:
        """Every kept version of a document, oldest first."""
        query = select(sop_versions).where(sop_versions.c.doc_id == doc_id).order_by(sop_versions.c.id)
        with self.engine.connect() as conn:
            return [_version(dict(row)) for row in conn.execute(query).mappings()]


def _version(row: dict[str, Any]) -> PublishedVersion:
    row.pop("id")
    return PublishedVersion.model_validate({**row, "published_at": as_utc(row["published_at"])})
