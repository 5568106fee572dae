"""Where drafts and their decisions are kept: any SQLAlchemy database (SQLite by default, PostgreSQL).

A decision is one transaction: the draft's status moves from pending with a guarded UPDATE, and the
transition row is written with it, so two agents deciding at once leave exactly one decision, whether
they reach the same process or two workers of `copilot serve --workers N`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from copilot.domain import Decision, Draft, DraftAction, DraftStatus, Transition
from copilot.domain.accounts import Actor
from copilot.domain.approval import AlreadyDecided, decide
from copilot.domain.drafts import utcnow
from copilot.domain.personal_data import without_secrets
from copilot.domain.records import AuditAction, AuditEntry, TicketStatus
from copilot.domain.taxonomy import Taxonomy
from copilot.store.audit import append
from copilot.store.database import as_utc, ensure_schema, open_engine
from copilot.store.tables import drafts, tickets, transitions


class DraftNotFound(KeyError):
    def __init__(self, draft_id: str) -> None:
        super().__init__(draft_id)
        self.draft_id = draft_id

    def __str__(self) -> str:
        return f"no draft with id {self.draft_id!r}"


class DraftStore:
    """Drafts and their transitions in one SQL database."""

    def __init__(self, database: str | Engine, *, taxonomy: Taxonomy | None = None) -> None:
        """On an engine shared with the other stores, or a database URL of its own. With a taxonomy, secrets are
        removed from every text kept (the draft's ticket text and reply, an edit's final text and note) before it
        is written, as the ticket store removes them from the ticket; without one, texts are kept as given."""
        self.engine: Engine = open_engine(database) if isinstance(database, str) else database
        self.taxonomy = taxonomy
        ensure_schema(self.engine)

    def _kept(self, text: str | None) -> str | None:
        if text is None or self.taxonomy is None:
            return text
        return without_secrets(text, taxonomy=self.taxonomy)

    def ping(self) -> None:
        """Ask the database a trivial question; raises SQLAlchemy's error when it cannot answer."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def save(self, draft: Draft, *, by: Actor | None = None) -> Draft:
        """Store a new pending draft as its ticket's latest, and return it as kept (its secrets removed); raises
        ValueError if its id is taken."""
        kept = {"ticket_text": self._kept(draft.ticket_text), "reply": self._kept(draft.reply)}
        draft = draft.model_copy(update=kept)
        with self.engine.begin() as conn:
            if conn.execute(select(drafts.c.id).where(drafts.c.id == draft.id)).first():
                raise ValueError(f"draft {draft.id} already exists")
            conn.execute(
                insert(drafts).values(
                    id=draft.id,
                    ticket_id=draft.ticket_id,
                    status=draft.status.value,
                    action=draft.action.value,
                    created_at=draft.created_at,
                    payload=draft.model_dump(mode="json"),
                )
            )
            _latest_of_ticket(conn, draft.ticket_id, draft.id, draft.status)
            append(
                conn,
                AuditEntry.of(
                    by or Actor.system("suggest"),
                    AuditAction.DRAFT_CREATED,
                    draft.id,
                    draft.created_at,
                    ticket=draft.ticket_id,
                    action=draft.action.value,
                    sop_versions=draft.sop_versions,
                ),
            )
        return draft

    def get(self, draft_id: str) -> Draft:
        """The draft with its current status; raises DraftNotFound."""
        with self.engine.connect() as conn:
            row = conn.execute(select(drafts.c.payload, drafts.c.status).where(drafts.c.id == draft_id)).first()
        if row is None:
            raise DraftNotFound(draft_id)
        return Draft.model_validate({**row.payload, "status": row.status})

    def decide(
        self, draft_id: str, decision: Decision, *, by: Actor | None = None, at: dt.datetime | None = None
    ) -> Transition:
        """Record an agent's decision, audited as `by` (default: the decision's actor at the CLI); raises
        DraftNotFound or AlreadyDecided, storing nothing then."""
        draft = self.get(draft_id)
        # An agent may paste a secret into an edit or a note: it is removed like the ticket's, before the diff.
        decision = decision.model_copy(
            update={"final_text": self._kept(decision.final_text), "note": self._kept(decision.note)}
        )
        transition = decide(draft, decision, at=at or utcnow())
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(drafts)
                .where(drafts.c.id == draft_id, drafts.c.status == DraftStatus.PENDING.value)
                .values(status=transition.to_status.value)
            )
            if moved.rowcount != 1:
                current = conn.execute(select(drafts.c.status).where(drafts.c.id == draft_id)).scalar_one()
                raise AlreadyDecided(draft_id, DraftStatus(current))
            conn.execute(insert(transitions).values(**_transition_row(transition)))
            _latest_of_ticket(conn, draft.ticket_id, draft.id, transition.to_status, action=draft.action)
            append(
                conn,
                AuditEntry.of(
                    by or Actor.operator(decision.actor),
                    AuditAction.DRAFT_DECIDED,
                    draft_id,
                    transition.at,
                    ticket=draft.ticket_id,
                    decision=transition.to_status.value,
                    reason=transition.reason.value if transition.reason else None,
                ),
            )
        return transition

    def of_ticket(self, ticket_id: str) -> list[Draft]:
        """Every draft made for a ticket, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(drafts.c.payload, drafts.c.status)
                .where(drafts.c.ticket_id == ticket_id)
                .order_by(drafts.c.created_at, drafts.c.id)
            )
            return [Draft.model_validate({**row.payload, "status": row.status}) for row in rows]

    def every(self) -> Iterator[Draft]:
        """Every draft kept, with its current status, oldest first: what the SOP writers' reports read."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(drafts.c.payload, drafts.c.status).order_by(drafts.c.created_at, drafts.c.id))
            for row in rows:
                yield Draft.model_validate({**row.payload, "status": row.status})

    def transitions(self, draft_id: str) -> list[Transition]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(transitions).where(transitions.c.draft_id == draft_id).order_by(transitions.c.id)
            ).mappings()
            return [_transition_from_row(dict(r)) for r in rows]

    def decided(self) -> Iterator[tuple[Draft, Transition]]:
        """Every decided draft with its decision, oldest decision first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(transitions, drafts.c.payload, drafts.c.status.label("draft_status"))
                .join(drafts, drafts.c.id == transitions.c.draft_id)
                .order_by(transitions.c.id)
            ).mappings()
            for r in rows:
                row = dict(r)
                draft = Draft.model_validate({**row.pop("payload"), "status": row.pop("draft_status")})
                yield draft, _transition_from_row(row)

    def recent_decided_citing(self, doc_id: str, *, limit: int) -> list[Draft]:
        """The most recently decided drafts that cite a document, newest first (read newest first, in pages, until
        `limit` are found: citations live in the payload)."""
        found: list[Draft] = []
        query = (
            select(drafts.c.payload, drafts.c.status)
            .join(transitions, transitions.c.draft_id == drafts.c.id)
            .order_by(transitions.c.id.desc())
        )
        with self.engine.connect() as conn:
            for row in conn.execute(query.execution_options(yield_per=500)):
                draft = Draft.model_validate({**row.payload, "status": row.status})
                if any(c.doc_id == doc_id for c in draft.citations):
                    found.append(draft)
                    if len(found) == limit:
                        break
        return found

    def close(self) -> None:
        self.engine.dispose()


def _latest_of_ticket(
    conn: Connection, ticket_id: str, draft_id: str, status: DraftStatus, *, action: DraftAction | None = None
) -> None:
    """Keep the ticket's record (if intake stored one) pointing at its newest draft; a sent draft closes it."""
    values: dict[str, object] = {"latest_draft_id": draft_id, "latest_draft_status": status.value}
    if status in (DraftStatus.APPROVED, DraftStatus.EDITED):
        values["status"] = (TicketStatus.ESCALATED if action is DraftAction.ESCALATE else TicketStatus.ANSWERED).value
    conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(**values))


def _transition_row(t: Transition) -> dict[str, object]:
    row = t.model_dump(mode="json")
    row["at"] = t.at
    return row


def _transition_from_row(row: dict[str, Any]) -> Transition:
    row.pop("id", None)
    return Transition.model_validate({**row, "at": as_utc(row["at"])})
