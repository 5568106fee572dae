"""The records database: one engine per process, and its schema kept at the newest Alembic revision.

`copilot db upgrade` (and every start of the copilot) upgrades the schema in place; a database made before
migrations existed (tables but no alembic_version) is taken up by revision 0001, which creates only what is
missing. Processes starting together on a new database race to migrate it: the loser of the race finds the
tables made under it, and tries again from where the winner left the database.
"""

from __future__ import annotations

import datetime as dt
import time
import weakref
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from copilot.settings import SqliteSynchronous

MIGRATIONS = Path(__file__).parent / "migrations"
# SQLite lets one writer in at a time: a second writer (another worker process) waits this long for the
# lock instead of failing with "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30
_current: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose schema this process checked


def open_engine(url: str, *, sqlite_synchronous: SqliteSynchronous = "full") -> Engine:
    """An engine for the URL (a SQLite file's folder is created), not yet migrated: see `ensure_schema`.
    `sqlite_synchronous` says when a SQLite file's commits reach the disk (the setting of that name)."""
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    sqlite_file = sqlite and parsed.database not in (None, "", ":memory:")
    if sqlite_file:
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        future=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S} if sqlite else {},
        pool_pre_ping=not sqlite,  # a server restarted under us: a dead pooled connection is replaced, not used
        hide_parameters=True,  # a database error's message (and so a logged traceback) never carries ticket text
    )
    if sqlite_file:
        event.listen(engine, "connect", _write_ahead_log)
        event.listen(engine, "connect", partial(_synchronous, {"full": "FULL", "normal": "NORMAL"}[sqlite_synchronous]))
    return engine


def _config(sla_hours: Mapping[str, int] | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if sla_hours is not None:
        config.attributes["sla_hours"] = dict(sla_hours)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, *, sla_hours: Mapping[str, int] | None = None, tries: int = 5) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns the revisions before and after.

    `sla_hours` (the taxonomy's priorities, most urgent first) dates the SLA of tickets that revision 0002
    rebuilds from drafts stored before tickets were records."""
    for attempt in range(1, tries + 1):
        try:
            before = current_revision(engine)
            if before != head_revision():
                config = _config(sla_hours)
                with engine.begin() as conn:
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
            _current.add(engine)
            return before, head_revision()
        except DatabaseError:
            if attempt == tries:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def ensure_schema(engine: Engine) -> None:
    """Upgrade the schema once per engine and process: a store built on an engine calls this."""
    if engine not in _current:
        upgrade(engine)


def _write_ahead_log(dbapi_connection: object, _: ConnectionPoolEntry) -> None:
    """Readers never wait for a writer, and a writer only for another writer (whose lock the busy timeout
    waits out): what several worker processes on one SQLite file need. The mode stays with the file."""
    _pragma(dbapi_connection, "journal_mode=WAL")


def _synchronous(mode: str, dbapi_connection: object, _: ConnectionPoolEntry) -> None:
    """Set on every connection (SQLite does not keep it with the file). With the write-ahead log, FULL syncs the
    log at every commit, NORMAL only at checkpoints: either way the file is never corrupted."""
    _pragma(dbapi_connection, f"synchronous={mode}")


def _pragma(dbapi_connection: object, setting: str) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute(f"PRAGMA {setting}")
    cursor.close()


def as_utc(value: dt.datetime) -> dt.datetime:
    """A datetime read back from the database, in UTC: SQLite drops the zone of what we stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


# How SQLite and PostgreSQL say that the storage under the database refused it (read from the driver's message,
# which is never echoed: it can quote values).
_STORAGE_MESSAGES = (
    "database or disk is full",
    "readonly database",
    "unable to open database file",
    "no space left on device",
    "read-only file system",
)


def storage_refused(exc: BaseException) -> bool:
    """The database failed because its disk is full or read-only (or its file cannot be opened), not because
    of the request: the operator must act, and the same request can be sent again afterwards."""
    return isinstance(exc, DBAPIError) and any(m in str(exc.orig).casefold() for m in _STORAGE_MESSAGES)
