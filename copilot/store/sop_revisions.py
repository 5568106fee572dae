"""SOP writers' draft revisions: saved, given the impact preview's verdict, then published or discarded once.

A revision leaves `draft` with a guarded UPDATE in the transaction that writes its audit entry, so two writers
deciding the same revision at once leave exactly one decision.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from copilot.domain.accounts import Actor
from copilot.domain.drafts import utcnow
from copilot.domain.records import AuditAction, AuditEntry
from copilot.domain.revisions import RevisionStatus, SopRevision
from copilot.store.audit import append
from copilot.store.database import as_utc, ensure_schema
from copilot.store.tables import sop_revisions


class RevisionNotFound(KeyError):
    def __str__(self) -> str:
        return f"no SOP revision with id {self.args[0]}"


class RevisionNotDraft(ValueError):
    """The revision was published or discarded already: it cannot change again."""


class SopRevisionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def save(self, doc_id: str, text: str, *, base_version: str | None, by: Actor) -> SopRevision:
        """Keep a new draft revision of a document (audited)."""
        now = utcnow()
        with self.engine.begin() as conn:
            revision_id = conn.execute(
                insert(sop_revisions).values(
                    doc_id=doc_id,
                    base_version=base_version,
                    text=text,
                    status=RevisionStatus.DRAFT.value,
                    created_by=by.name,
                    created_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            append(
                conn,
                AuditEntry.of(
                    by, AuditAction.SOP_REVISION_SAVED, doc_id, now, revision=revision_id, base_version=base_version
                ),
            )
        return self.get(int(revision_id))

    def get(self, revision_id: int) -> SopRevision:
        """Raises RevisionNotFound."""
        with self.engine.connect() as conn:
            row = conn.execute(select(sop_revisions).where(sop_revisions.c.id == revision_id)).mappings().first()
        if row is None:
            raise RevisionNotFound(revision_id)
        return _revision(dict(row))

    def of_document(self, doc_id: str) -> list[SopRevision]:
        """A document's revisions, newest first."""
        query = select(sop_revisions).where(sop_revisions.c.doc_id == doc_id).order_by(sop_revisions.c.id.desc())
        with self.engine.connect() as conn:
            return [_revision(dict(row)) for row in conn.execute(query).mappings()]

    def drafts_per_document(self) -> dict[str, int]:
        """How many open draft revisions each document has (documents with none are left out)."""
        query = (
            select(sop_revisions.c.doc_id, func.count())
            .where(sop_revisions.c.status == RevisionStatus.DRAFT.value)
            .group_by(sop_revisions.c.doc_id)
        )
        with self.engine.connect() as conn:
            return {doc_id: int(count) for doc_id, count in conn.execute(query)}

    def record_impact(
        self, revision_id: int, passed: bool, summary: dict[str, Any], *, by: Actor | None = None
    ) -> SopRevision:
        """Keep the impact preview's verdict on a draft revision (audited): publishing needs it passed, or a
        written override. Raises RevisionNotFound, or RevisionNotDraft for a revision decided already."""
        by = by or Actor.system("impact-preview")
        now = utcnow()
        with self.engine.begin() as conn:
            doc_id = self._draft_doc_id(conn, revision_id)
            conn.execute(
                update(sop_revisions)
                .where(sop_revisions.c.id == revision_id)
                .values(impact_passed=passed, impact_summary=summary)
            )
            append(
                conn,
                AuditEntry.of(by, AuditAction.SOP_IMPACT_RECORDED, doc_id, now, revision=revision_id, passed=passed),
            )
        return self.get(revision_id)

    def decide(
        self,
        revision_id: int,
        status: RevisionStatus,
        *,
        by: Actor,
        action: AuditAction,
        override_reason: str | None = None,
        **detail: object,
    ) -> SopRevision:
        """Move a draft to published or discarded, once, with its audit entry (`detail` added to it). Raises
        RevisionNotFound, or RevisionNotDraft when it was decided before (by this call's rival, say)."""
        now = utcnow()
        with self.engine.begin() as conn:
            doc_id = self._draft_doc_id(conn, revision_id)
            moved = conn.execute(
                update(sop_revisions)
                .where(sop_revisions.c.id == revision_id, sop_revisions.c.status == RevisionStatus.DRAFT.value)
                .values(status=status.value, decided_by=by.name, decided_at=now, override_reason=override_reason)
            ).rowcount
            if moved != 1:
                raise RevisionNotDraft(f"SOP revision {revision_id} was decided by someone else just now")
            entry_detail = {"revision": revision_id, **detail}
            if override_reason:
                entry_detail["override_reason"] = override_reason
            append(conn, AuditEntry.of(by, action, doc_id, now, **entry_detail))
        return self.get(revision_id)

    def _draft_doc_id(self, conn: Connection, revision_id: int) -> str:
        row = conn.execute(
            select(sop_revisions.c.doc_id, sop_revisions.c.status).where(sop_revisions.c.id == revision_id)
        ).first()
        if row is None:
            raise RevisionNotFound(revision_id)
        if row.status != RevisionStatus.DRAFT.value:
            raise RevisionNotDraft(f"SOP revision {revision_id} is {row.status}, not a draft: it cannot change")
        return str(row.doc_id)


def _revision(row: dict[str, Any]) -> SopRevision:
    decided_at = row["decided_at"]
    return SopRevision.model_validate(
        {**row, "created_at": as_utc(row["created_at"]), "decided_at": as_utc(decided_at) if decided_at else None}
    )
