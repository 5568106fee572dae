"""The audit log: one row per write (and per reveal of personal data), appended in the write's own transaction
where there is one, so a write and its entry are kept or lost together. Rows are never updated or deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from copilot.domain.records import AuditAction, AuditEntry
from copilot.store.database import as_utc, ensure_schema
from copilot.store.tables import audit_log


def append(conn: Connection, entry: AuditEntry) -> None:
    """Add an entry inside the caller's transaction."""
    conn.execute(insert(audit_log).values(_row(entry)))


def _row(entry: AuditEntry) -> dict[str, object]:
    row = entry.model_dump(mode="json", exclude={"id"})
    row["at"] = entry.at
    return row


class AuditLog:
    """Reads the log, and appends the entries of writes that have no transaction of their own (an ingest)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def record(self, entry: AuditEntry) -> None:
        with self.engine.begin() as conn:
            append(conn, entry)

    def entries(
        self,
        *,
        action: AuditAction | None = None,
        actor: str | None = None,
        target: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """The newest entries first, filtered; `before_id` pages back through older ones."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if action is not None:
            query = query.where(audit_log.c.action == action.value)
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        if target is not None:
            query = query.where(audit_log.c.target == target)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        with self.engine.connect() as conn:
            return [_entry(dict(row)) for row in conn.execute(query).mappings()]


def _entry(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry.model_validate({**row, "at": as_utc(row["at"])})
