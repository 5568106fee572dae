"""Tickets as intake received them, with their labels and the corrections specialists made to them.

Storing is idempotent on the helpdesk's id: a ticket sent again with an id already kept returns the kept
record and stores nothing. A correction replaces the current labels in the same transaction that keeps the
old and new labels and appends the audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from copilot.domain import Ticket, Triage
from copilot.domain.accounts import Actor
from copilot.domain.drafts import utcnow
from copilot.domain.personal_data import without_secrets
from copilot.domain.records import AuditAction, AuditEntry, LabelCorrection, TicketRecord, TicketStatus
from copilot.domain.taxonomy import Taxonomy
from copilot.store.audit import append
from copilot.store.database import as_utc, ensure_schema
from copilot.store.tables import label_corrections, tickets


class TicketNotFound(KeyError):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(ticket_id)
        self.ticket_id = ticket_id

    def __str__(self) -> str:
        return f"no ticket with id {self.ticket_id!r}"


@dataclass(frozen=True)
class QueueFilter:
    """What a specialist narrows the queue to; None is any."""

    lob: str | None = None
    queue: str | None = None
    status: TicketStatus | None = TicketStatus.OPEN
    language: str | None = None
    risk_flag: str | None = None


class TicketStore:
    def __init__(self, engine: Engine, *, taxonomy: Taxonomy | None = None) -> None:
        """With a taxonomy, a ticket's secrets (what its secret flags' patterns match) are removed from its text
        before it is kept (see copilot/domain/personal_data.py); without one, texts are kept as given."""
        self.engine = engine
        self.taxonomy = taxonomy
        ensure_schema(engine)

    def store(
        self,
        ticket: Ticket,
        labels: Triage,
        *,
        helpdesk_id: str | None,
        received_at: dt.datetime,
        taxonomy_version: str,
        sla_due_at: dt.datetime,
        priority_rank: int,
        by: Actor,
    ) -> tuple[TicketRecord, bool]:
        """Keep a newly received ticket; returns the record and whether it is new (False: the helpdesk id,
        or the ticket id, was kept before, and that record is returned unchanged)."""
        kept = self.find(ticket.id, helpdesk_id=helpdesk_id)
        if kept is not None:
            return kept, False
        row = {
            "id": ticket.id,
            "helpdesk_id": helpdesk_id,
            "text": ticket.text if self.taxonomy is None else without_secrets(ticket.text, taxonomy=self.taxonomy),
            "creator_handle": ticket.creator_handle,
            "received_at": received_at,
            "model_labels": labels.model_dump(mode="json"),
            "taxonomy_version": taxonomy_version,
            "model_version": labels.model_version,
            "status": TicketStatus.OPEN.value,
            "corrected": False,
            **_label_columns(labels, sla_due_at, priority_rank),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(tickets).values(row))
                append(
                    conn,
                    AuditEntry.of(
                        by,
                        AuditAction.TICKET_STORED,
                        ticket.id,
                        received_at,
                        helpdesk_id=helpdesk_id,
                        intent=labels.intent,
                        priority=labels.priority,
                        risk_flags=labels.risk_flags,
                        model_version=labels.model_version,
                    ),
                )
        except IntegrityError:  # the same helpdesk id, sent twice at once: the other request kept it
            kept = self.find(ticket.id, helpdesk_id=helpdesk_id)
            if kept is None:
                raise
            return kept, False
        return self.get(ticket.id), True

    def find(self, ticket_id: str, *, helpdesk_id: str | None = None) -> TicketRecord | None:
        """The record kept under the helpdesk id (if given) or the ticket id, or None."""
        query = select(tickets).where(
            tickets.c.helpdesk_id == helpdesk_id if helpdesk_id is not None else tickets.c.id == ticket_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _record(dict(row))

    def get(self, ticket_id: str) -> TicketRecord:
        """The record; raises TicketNotFound."""
        record = self.find(ticket_id)
        if record is None:
            raise TicketNotFound(ticket_id)
        return record

    def queue(self, where: QueueFilter, *, limit: int = 200) -> list[TicketRecord]:
        """Tickets most urgent first: by priority, then by the SLA due time."""
        query = select(tickets).order_by(tickets.c.priority_rank, tickets.c.sla_due_at, tickets.c.id).limit(limit)
        for column, value in (
            (tickets.c.lob, where.lob),
            (tickets.c.queue, where.queue),
            (tickets.c.status, where.status.value if where.status else None),
            (tickets.c.language, where.language),
        ):
            if value is not None:
                query = query.where(column == value)
        if where.risk_flag is not None:
            query = query.where(tickets.c.risk_flags.contains(f",{where.risk_flag},", autoescape=True))
        with self.engine.connect() as conn:
            return [_record(dict(row)) for row in conn.execute(query).mappings()]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(tickets)).scalar_one())

    def correct(
        self, ticket_id: str, labels: Triage, *, sla_due_at: dt.datetime, priority_rank: int, by: Actor
    ) -> LabelCorrection:
        """Put corrected labels in force, keeping the old ones beside them; raises TicketNotFound."""
        at = utcnow()
        with self.engine.begin() as conn:
            old = _current_labels(conn, ticket_id)
            conn.execute(
                update(tickets)
                .where(tickets.c.id == ticket_id)
                .values(corrected=True, **_label_columns(labels, sla_due_at, priority_rank))
            )
            row = {
                "ticket_id": ticket_id,
                "actor": by.name,
                "at": at,
                "old": old.model_dump(mode="json"),
                "new": labels.model_dump(mode="json"),
            }
            conn.execute(insert(label_corrections).values(row))
            changed = {
                field: getattr(labels, field)
                for field in ("lob", "intent", "priority", "risk_flags", "language", "queue")
                if getattr(labels, field) != getattr(old, field)
            }
            append(conn, AuditEntry.of(by, AuditAction.LABELS_CORRECTED, ticket_id, at, changed=changed))
        return LabelCorrection(ticket_id=ticket_id, actor=by.name, at=at, old=old, new=labels)

    def corrections(self, ticket_id: str | None = None) -> Iterator[tuple[TicketRecord, LabelCorrection]]:
        """Every correction (of one ticket, or all), oldest first, with its ticket."""
        query = select(label_corrections).order_by(label_corrections.c.id)
        if ticket_id is not None:
            query = query.where(label_corrections.c.ticket_id == ticket_id)
        with self.engine.connect() as conn:
            rows = [dict(row) for row in conn.execute(query).mappings()]
        records: dict[str, TicketRecord] = {}
        for row in rows:
            record = records.get(row["ticket_id"]) or records.setdefault(row["ticket_id"], self.get(row["ticket_id"]))
            yield (
                record,
                LabelCorrection(
                    ticket_id=row["ticket_id"],
                    actor=row["actor"],
                    at=as_utc(row["at"]),
                    old=Triage.model_validate(row["old"]),
                    new=Triage.model_validate(row["new"]),
                ),
            )


def _current_labels(conn: Connection, ticket_id: str) -> Triage:
    labels = conn.execute(select(tickets.c.labels).where(tickets.c.id == ticket_id)).scalar()
    if labels is None:
        raise TicketNotFound(ticket_id)
    return Triage.model_validate(labels)


def _label_columns(labels: Triage, sla_due_at: dt.datetime, priority_rank: int) -> dict[str, Any]:
    return {
        "labels": labels.model_dump(mode="json"),
        "lob": labels.lob,
        "intent": labels.intent,
        "priority": labels.priority,
        "priority_rank": priority_rank,
        "queue": labels.queue,
        "language": labels.language,
        "risk_flags": "," + ",".join(labels.risk_flags) + ",",
        "sla_due_at": sla_due_at,
    }


def _record(row: dict[str, Any]) -> TicketRecord:
    return TicketRecord(
        id=row["id"],
        helpdesk_id=row["helpdesk_id"],
        text=row["text"],
        creator_handle=row["creator_handle"],
        received_at=as_utc(row["received_at"]),
        model_labels=Triage.model_validate(row["model_labels"]),
        labels=Triage.model_validate(row["labels"]),
        taxonomy_version=row["taxonomy_version"],
        sla_due_at=as_utc(row["sla_due_at"]),
        status=TicketStatus(row["status"]),
        corrected=row["corrected"],
        latest_draft_id=row["latest_draft_id"],
        latest_draft_status=row["latest_draft_status"],
    )
