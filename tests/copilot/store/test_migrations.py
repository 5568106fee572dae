"""Upgrading a records database made by earlier code keeps every draft and decision, links each to its ticket,
and ends at the schema the code reads (copilot/store/tables.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text
from sqlalchemy.engine import Engine, make_url
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.domain import Decision, DecisionKind, Draft, DraftAction, RejectReason, Transition
from copilot.domain.approval import decide
from copilot.domain.records import TicketStatus
from copilot.domain.taxonomy import Taxonomy
from copilot.store.accounts import AccountStore, SignInLimits
from copilot.store.database import MIGRATIONS, current_revision, head_revision, open_engine
from copilot.store.drafts import DraftStore
from copilot.store.tables import metadata
from copilot.store.tickets import TicketStore
from tests.factories import a_draft

pytestmark = pytest.mark.integration

runner = CliRunner()
START = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)

# The tables exactly as the code before migrations made them (copilot/store/drafts.py and jobs.py at 788709e),
# frozen here: the code's own definitions move on, a database made back then does not.
legacy = MetaData()
Table(
    "drafts",
    legacy,
    Column("id", String(40), primary_key=True),
    Column("ticket_id", String(100), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSON, nullable=False),
)
Table(
    "draft_transitions",
    legacy,
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
Table(
    "jobs",
    legacy,
    Column("id", String(40), primary_key=True),
    Column("status", String(16), nullable=False, index=True),
    Column("source", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("tickets_total", Integer, nullable=False),
    Column("chunks_total", Integer, nullable=False),
    Column("skipped", JSON, nullable=False),
    Column("error", Text),
)
Table(
    "job_chunks",
    legacy,
    Column("job_id", String(40), ForeignKey("jobs.id"), primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("tickets", JSON, nullable=False),
    Column("size", Integer, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("problems", JSON, nullable=False),
    Column("worker", String(200)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("results", JSON),
)

JOB = {
    "id": "JOB-old",
    "status": "done",
    "source": "backlog.csv",
    "created_at": START,
    "started_at": START,
    "finished_at": START + dt.timedelta(minutes=5),
    "tickets_total": 1,
    "chunks_total": 1,
    "skipped": [{"line": 3, "problem": "empty text"}],
    "error": None,
}


@dataclass
class OldRecords:
    """What the earlier code had stored: drafts (with their current status) and each decided one's transition."""

    drafts: dict[str, Draft]
    transitions: dict[str, Transition]


def old_draft(ticket_id: str, minutes: int, action: DraftAction = DraftAction.REPLY) -> Draft:
    return a_draft().model_copy(
        update={
            "id": f"DRF-{ticket_id}-{minutes}",
            "ticket_id": ticket_id,
            "ticket_text": f"where is my payout ({ticket_id})",
            "created_at": START + dt.timedelta(minutes=minutes),
            "action": action,
        }
    )


def make_old_database(url: str, *, at_revision_0001: bool) -> OldRecords:
    """Fill a database as the earlier code did: tables made by `create_all` (no alembic_version), or, with
    `at_revision_0001`, by the first migration; then drafts, decisions and a backlog job, row by row as that
    code wrote them."""
    engine = sa.create_engine(url)
    if at_revision_0001:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
    else:
        legacy.create_all(engine)
    drafts, transitions = legacy.tables["drafts"], legacy.tables["draft_transitions"]
    made = [
        old_draft("TKT-A", 0),  # still pending
        old_draft("TKT-B", 1),  # approved: the reply was sent
        old_draft("TKT-C", 2),  # rejected, then a second draft still pending
        old_draft("TKT-C", 3),
        old_draft("TKT-D", 4, DraftAction.ESCALATE),  # an escalation, approved
    ]
    decisions = {
        "DRF-TKT-B-1": Decision(kind=DecisionKind.APPROVE, actor="agent-1", note="fine"),
        "DRF-TKT-C-2": Decision(kind=DecisionKind.REJECT, actor="agent-2", reason=RejectReason.TONE, note="curt"),
        "DRF-TKT-D-4": Decision(kind=DecisionKind.APPROVE, actor="agent-3"),
    }
    old = OldRecords(drafts={}, transitions={})
    with engine.begin() as conn:
        for draft in made:
            payload = draft.model_dump(mode="json")
            conn.execute(
                drafts.insert().values(
                    id=draft.id,
                    ticket_id=draft.ticket_id,
                    status=draft.status.value,
                    action=draft.action.value,
                    created_at=draft.created_at,
                    payload=payload,
                )
            )
            old.drafts[draft.id] = draft
        for draft_id, decision in decisions.items():
            transition = decide(old.drafts[draft_id], decision, at=START + dt.timedelta(hours=1))
            conn.execute(drafts.update().where(drafts.c.id == draft_id).values(status=transition.to_status.value))
            conn.execute(transitions.insert().values(**(transition.model_dump(mode="json") | {"at": transition.at})))
            old.drafts[draft_id] = old.drafts[draft_id].model_copy(update={"status": transition.to_status})
            old.transitions[draft_id] = transition
        conn.execute(legacy.tables["jobs"].insert().values(JOB))
    engine.dispose()
    return old


def db_upgrade(url: str, data_dir: Path) -> str:
    """`copilot db upgrade` as an operator runs it, on this database; returns what it printed."""
    environment = {"COPILOT_DATABASE_URL": url, "COPILOT_DATA_DIR": str(data_dir), "COPILOT_ADMIN_PASSWORD": None}
    result = runner.invoke(app, ["db", "upgrade"], env=environment)
    assert result.exit_code == 0, result.stderr or result.stdout
    return result.stdout


def schema_differences(engine: Engine) -> list[object]:
    """What autogenerate would change to make the database match copilot/store/tables.py: nothing, we expect."""
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))


@pytest.mark.parametrize("at_revision_0001", [False, True], ids=["before-migrations", "at-0001"])
def test_upgrading_keeps_every_draft_and_decision_and_links_each_to_its_ticket(
    database_url: str, at_revision_0001: bool, tmp_path: Path, taxonomy: Taxonomy
) -> None:
    old = make_old_database(database_url, at_revision_0001=at_revision_0001)

    printed = db_upgrade(database_url, tmp_path)

    shown = make_url(database_url).render_as_string(hide_password=True)
    was = "0001" if at_revision_0001 else "the tables made before migrations"
    assert f"Database {shown}: upgraded from {was} to {head_revision()}" in printed
    engine = open_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        drafts = DraftStore(engine)
        for draft_id, draft in old.drafts.items():
            assert drafts.get(draft_id) == draft
            assert drafts.transitions(draft_id) == ([old.transitions[draft_id]] if draft_id in old.transitions else [])

        tickets = TicketStore(engine)
        assert tickets.count() == 4, "one ticket per ticket id the drafts name"
        status = {
            t: (tickets.get(t).status, tickets.get(t).latest_draft_id) for t in ("TKT-A", "TKT-B", "TKT-C", "TKT-D")
        }
        assert status == {
            "TKT-A": (TicketStatus.OPEN, "DRF-TKT-A-0"),
            "TKT-B": (TicketStatus.ANSWERED, "DRF-TKT-B-1"),
            "TKT-C": (TicketStatus.OPEN, "DRF-TKT-C-3"),
            "TKT-D": (TicketStatus.ESCALATED, "DRF-TKT-D-4"),
        }
        answered = tickets.get("TKT-B")
        first = old.drafts["DRF-TKT-B-1"]
        assert (answered.text, answered.labels, answered.model_labels) == (
            first.ticket_text,
            first.triage,
            first.triage,
        )
        assert answered.received_at == first.created_at
        assert answered.sla_due_at == first.created_at + dt.timedelta(hours=taxonomy.priorities["P2"].sla_hours)

        with engine.connect() as conn:
            [job] = conn.execute(sa.select(legacy.tables["jobs"])).mappings()
        assert (job["id"], job["status"], job["skipped"]) == (JOB["id"], JOB["status"], JOB["skipped"])

        # A migrated draft is decided like a new one, and its ticket follows.
        drafts.decide("DRF-TKT-A-0", Decision(kind=DecisionKind.APPROVE, actor="agent-9"))
        assert tickets.get("TKT-A").status is TicketStatus.ANSWERED

        # The first admin was made with a one-time password that signs in.
        [password] = [
            line.split("one-time password: ")[1].split(" ")[0] for line in printed.splitlines() if "one-time" in line
        ]
        accounts = AccountStore(engine, limits=SignInLimits(5, dt.timedelta(minutes=15)), session_hours=1)
        assert accounts.sign_in("admin", password, address="test")[1].user.name == "admin"

        again = db_upgrade(database_url, tmp_path)
        assert f"Database {shown}: already at {head_revision()}" in again
        assert "Created the first account" not in again
        assert tickets.count() == 4 and current_revision(engine) == head_revision()
        assert drafts.get("DRF-TKT-C-2") == old.drafts["DRF-TKT-C-2"]
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_a_new_database_is_created_at_the_newest_revision_and_matches_the_tables_the_code_reads(
    database_url: str, tmp_path: Path
) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":  # the test server trusts local connections: any password does
        url = url.set(password="never-printed-42")
    printed = db_upgrade(url.render_as_string(hide_password=False), tmp_path)

    assert f"Database {url.render_as_string(hide_password=True)}: created at {head_revision()}" in printed
    assert "never-printed-42" not in printed
    engine = open_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        assert schema_differences(engine) == []
    finally:
        engine.dispose()
