"""The sqlite_synchronous setting reaches every connection to the records database: full (a disk sync at every
commit) unless the operator chose normal."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from copilot.services import open_records
from tests.factories import make_settings

pytestmark = pytest.mark.integration

SQLITE_MODES = {1: "normal", 2: "full"}  # what PRAGMA synchronous answers


@pytest.mark.parametrize("chosen", [None, "normal"])
def test_each_connection_syncs_commits_as_the_setting_says(tmp_path: Path, chosen: str | None) -> None:
    settings = make_settings(tmp_path, **({"sqlite_synchronous": chosen} if chosen else {}))
    records = open_records(settings)
    try:
        engine = records.store.engine
        with engine.connect() as first, engine.connect() as second:  # two pooled connections, each set up anew
            modes = {SQLITE_MODES[conn.execute(text("PRAGMA synchronous")).scalar_one()] for conn in (first, second)}
            journal = first.execute(text("PRAGMA journal_mode")).scalar_one()
    finally:
        records.close()
    assert modes == {chosen or "full"}
    assert journal == "wal"
