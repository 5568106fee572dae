"""Retention of ticket text: every stored copy of a text older than a cutoff is emptied, in one transaction with
its audit entry; labels, drafts' replies, decisions and audit entries stay.

A purged text is replaced by a marker rather than deleted, so that every row stays readable (a ticket's text
may not be empty) and a purge run twice counts only what it changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection, Engine

from copilot.domain.accounts import Actor
from copilot.domain.drafts import utcnow
from copilot.domain.records import AuditAction, AuditEntry
from copilot.store.audit import append
from copilot.store.tables import drafts, job_chunks, jobs, tickets

PURGED_TEXT = "[text purged: older than the retention period]"


class PurgeCounts(BaseModel):
    """How many stored texts a purge emptied (or, in a dry run, would empty)."""

    cutoff: dt.datetime = Field(description="Texts received before this were purged.")
    tickets: int = Field(description="Tickets whose text was emptied.")
    drafts: int = Field(description="Drafts whose copy of their ticket's text was emptied.")
    job_tickets: int = Field(description="Backlog tickets still waiting in a job chunk, their text emptied.")
    dry_run: bool = False

    @property
    def total(self) -> int:
        return self.tickets + self.drafts + self.job_tickets


def purge_texts(engine: Engine, *, before: dt.datetime, by: Actor, dry_run: bool = False) -> PurgeCounts:
    """Empty every ticket text received before `before`: the ticket's own, its drafts' copies (and any draft made
    before the cutoff), and those left in backlog jobs created before it. Writes nothing with `dry_run`;
    otherwise one transaction holds the changes and the audit entry with the counts."""
    with engine.begin() as conn:
        old_tickets = select(tickets.c.id).where(tickets.c.received_at < before)
        ticket_ids = list(conn.execute(old_tickets.where(tickets.c.text != PURGED_TEXT)).scalars())
        draft_rows = [
            (row.id, row.payload)
            for row in conn.execute(
                select(drafts.c.id, drafts.c.payload).where(
                    or_(drafts.c.created_at < before, drafts.c.ticket_id.in_(old_tickets))
                )
            )
            if row.payload.get("ticket_text") != PURGED_TEXT
        ]
        chunk_rows = [
            (row.job_id, row.chunk, row.tickets)
            for row in conn.execute(
                select(job_chunks.c.job_id, job_chunks.c.chunk, job_chunks.c.tickets)
                .join(jobs, jobs.c.id == job_chunks.c.job_id)
                .where(jobs.c.created_at < before)
            )
            if _texts_in(row.tickets)
        ]
        counts = PurgeCounts(
            cutoff=before,
            tickets=len(ticket_ids),
            drafts=len(draft_rows),
            job_tickets=sum(_texts_in(kept) for _, _, kept in chunk_rows),
            dry_run=dry_run,
        )
        if dry_run:
            return counts
        if ticket_ids:
            conn.execute(update(tickets).where(tickets.c.id.in_(ticket_ids)).values(text=PURGED_TEXT))
        for draft_id, payload in draft_rows:
            conn.execute(
                update(drafts).where(drafts.c.id == draft_id).values(payload={**payload, "ticket_text": PURGED_TEXT})
            )
        for job_id, chunk, kept in chunk_rows:
            _empty_chunk(conn, job_id, chunk, kept)
        append(
            conn,
            AuditEntry.of(
                by,
                AuditAction.TEXTS_PURGED,
                None,
                utcnow(),
                cutoff=before.isoformat(),
                tickets=counts.tickets,
                drafts=counts.drafts,
                job_tickets=counts.job_tickets,
            ),
        )
    return counts


def _texts_in(chunk_tickets: list[dict[str, Any]]) -> int:
    return sum(1 for t in chunk_tickets if t.get("text") not in (None, PURGED_TEXT))


def _empty_chunk(conn: Connection, job_id: str, chunk: int, kept: list[dict[str, Any]]) -> None:
    emptied = [{**t, "text": PURGED_TEXT} if "text" in t else t for t in kept]
    conn.execute(
        update(job_chunks).where(job_chunks.c.job_id == job_id, job_chunks.c.chunk == chunk).values(tickets=emptied)
    )
