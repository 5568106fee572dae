"""The databases tests run the stores on: a SQLite file, and the PostgreSQL server when it is reachable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_reason() -> str | None:
    """Why the PostgreSQL run of a test is skipped, or None when the server answers."""
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # driver or server missing: say why
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new, empty schema on the PostgreSQL server (dropped afterwards), put first on the search path
    so every table, alembic_version included, is made and found there: other tests share the server's database,
    and nothing here touches its other schemas. Call it only when `postgres_reason()` is None."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(POSTGRES_URL)
    with server.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with server.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        server.dispose()
