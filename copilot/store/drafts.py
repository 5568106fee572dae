"""Where drafts and their decisions are kept: any SQLAlchemy database (SQLite by default, PostgreSQL).

A decision is one transaction: the draft's status moves from pending with a guarded UPDATE, and the
transition row is written with it, so two agents deciding at once leave exactly one decision, whether
they reach the same process or two workers of `copilot serve --workers N`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from copilot.domain import Decision, Draft, DraftStatus, Transition
from copilot.domain.approval import AlreadyDecided, decide
from copilot.domain.drafts import utcnow
from copilot.store.schema import create_missing_tables

metadata = MetaData()

drafts = Table(
    "drafts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("ticket_id", String(100), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSON, nullable=False),
)

transitions = Table(
    "draft_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("draft_id", String(40), ForeignKey("drafts.id"), nullable=False, index=True),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", String(32)),
    Column("note", Text),
    Column("final_text", Text),
    Column("diff", Text),
    Column("sop_versions", JSON, nullable=False),
    Column("model_version", String(200), nullable=False),
)

# SQLite lets one writer in at a time: a second writer (another worker process) waits this long for the
# lock instead of failing with "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30


class DraftNotFound(KeyError):
    def __init__(self, draft_id: str) -> None:
        super().__init__(draft_id)
        self.draft_id = draft_id

    def __str__(self) -> str:
        return f"no draft with id {self.draft_id!r}"


class DraftStore:
    """Drafts and their transitions in one SQL database."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        sqlite_file = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
        if sqlite_file:
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S} if parsed.get_backend_name() == "sqlite" else {}
        self.engine: Engine = create_engine(url, future=True, connect_args=connect_args)
        if sqlite_file:
            event.listen(self.engine, "connect", _write_ahead_log)
        create_missing_tables(metadata, self.engine)

    def ping(self) -> None:
        """Ask the database a trivial question; raises SQLAlchemy's error when it cannot answer."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def save(self, draft: Draft) -> Draft:
        """Store a new pending draft; raises ValueError if its id is taken."""
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
        return draft

    def get(self, draft_id: str) -> Draft:
        """The draft with its current status; raises DraftNotFound."""
        with self.engine.connect() as conn:
            row = conn.execute(select(drafts.c.payload, drafts.c.status).where(drafts.c.id == draft_id)).first()
        if row is None:
            raise DraftNotFound(draft_id)
        return Draft.model_validate({**row.payload, "status": row.status})

    def decide(self, draft_id: str, decision: Decision, *, at: dt.datetime | None = None) -> Transition:
        """Record an agent's decision; raises DraftNotFound or AlreadyDecided, storing nothing then."""
        draft = self.get(draft_id)
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
        return transition

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

    def close(self) -> None:
        self.engine.dispose()


def _write_ahead_log(dbapi_connection: object, _: ConnectionPoolEntry) -> None:
    """Readers never wait for a writer, and a writer only for another writer (whose lock the busy timeout
    waits out): what several worker processes on one SQLite file need. The mode stays with the file."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _transition_row(t: Transition) -> dict[str, object]:
    row = t.model_dump(mode="json")
    row["at"] = t.at
    return row


def _transition_from_row(row: dict[str, object]) -> Transition:
    row.pop("id", None)
    at = row["at"]
    if isinstance(at, dt.datetime) and at.tzinfo is None:  # SQLite drops the zone; we store UTC
        row["at"] = at.replace(tzinfo=dt.UTC)
    return Transition.model_validate(row)
