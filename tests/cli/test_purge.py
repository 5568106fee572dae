"""`copilot purge` as an operator runs it: refused with one line without a retention period, counts with
--dry-run and changes nothing, then purges what is older than COPILOT_TEXT_RETENTION_DAYS and says how much."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.domain import Ticket
from copilot.domain.accounts import Actor
from copilot.domain.records import sla_due
from copilot.services import open_records
from copilot.store.retention import PURGED_TEXT
from tests.factories import labels, make_settings

pytestmark = pytest.mark.integration

runner = CliRunner()


def test_purge_needs_a_period_counts_in_a_dry_run_and_purges_old_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("COPILOT_DATA_DIR", str(data))
    for variable in ("COPILOT_DATABASE_URL", "COPILOT_TEXT_RETENTION_DAYS"):
        monkeypatch.delenv(variable, raising=False)
    records = open_records(make_settings(data))
    now = dt.datetime.now(dt.UTC)
    for ticket_id, age in (("T-old", 120), ("T-new", 3)):
        received = now - dt.timedelta(days=age)
        records.tickets.store(
            Ticket(id=ticket_id, text=f"{ticket_id}: where is my payout"),
            labels("payout_missing", "en", "creator_rewards").model_copy(update={"ticket_id": ticket_id}),
            helpdesk_id=None,
            received_at=received,
            taxonomy_version=records.taxonomy.version,
            sla_due_at=sla_due(received, "P2", records.taxonomy),
            priority_rank=1,
            by=Actor.operator("tests"),
        )

    refused = runner.invoke(app, ["purge"])
    assert refused.exit_code == 1
    assert refused.stderr.strip() == "error: no retention period: set COPILOT_TEXT_RETENTION_DAYS or pass --days N"

    dry = runner.invoke(app, ["purge", "--days", "90", "--dry-run"])
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.startswith("Would purge the text of 1 tickets, 0 drafts and 0 backlog tickets")
    assert records.tickets.get("T-old").text == "T-old: where is my payout"

    monkeypatch.setenv("COPILOT_TEXT_RETENTION_DAYS", "90")
    done = runner.invoke(app, ["purge"])
    assert done.exit_code == 0, done.stderr
    assert done.stdout.startswith("Purged the text of 1 tickets, 0 drafts and 0 backlog tickets")
    assert "(90 days)" in done.stdout
    assert records.tickets.get("T-old").text == PURGED_TEXT
    assert records.tickets.get("T-new").text == "T-new: where is my payout"
    records.close()
