"""Creating the records' tables, shared by every store."""

from __future__ import annotations

import time

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError


def create_missing_tables(metadata: MetaData, engine: Engine, *, tries: int = 5) -> None:
    """Create the tables of `metadata` that are missing. Processes starting together on a new database race to
    create them: the one that loses sees a table that it had just found missing, and looks again."""
    for attempt in range(1, tries + 1):
        try:
            metadata.create_all(engine)
            return
        except DatabaseError:
            if attempt == tries:
                raise
            time.sleep(0.1 * attempt)
