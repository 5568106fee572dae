"""Retention on a real database (SQLite and PostgreSQL): a purge empties every stored copy of the ticket texts
older than the cutoff (tickets, drafts, backlog chunks) and keeps labels, replies, decisions and audit entries;
a dry run changes nothing; a second purge finds nothing more. Secrets never reach the tables in the first
place: the stores remove them before writing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from copilot.domain import Decision, DecisionKind, Ticket
from copilot.domain.accounts import Actor
from copilot.domain.records import AuditAction, sla_due
from copilot.domain.taxonomy import Taxonomy
from copilot.store.audit import AuditLog
from copilot.store.database import open_engine, upgrade
from copilot.store.drafts import DraftStore
from copilot.store.jobs import JobStore
from copilot.store.retention import PURGED_TEXT, purge_texts
from copilot.store.tables import audit_log, drafts, job_chunks, tickets, transitions
from copilot.store.tickets import TicketStore
from tests.factories import a_draft, labels

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC)
OLD, RECENT = NOW - dt.timedelta(days=200), NOW - dt.timedelta(days=5)
CUTOFF = NOW - dt.timedelta(days=90)
OPERATOR = Actor.operator("cli:ops")
CARD = "4539 1488 0343 6467"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def keep_ticket(store: TicketStore, taxonomy: Taxonomy, ticket_id: str, text: str, received: dt.datetime) -> None:
    store.store(
        Ticket(id=ticket_id, text=text),
        labels("payout_missing", "en", "creator_rewards").model_copy(update={"ticket_id": ticket_id}),
        helpdesk_id=None,
        received_at=received,
        taxonomy_version=taxonomy.version,
        sla_due_at=sla_due(received, "P2", taxonomy),
        priority_rank=taxonomy.priority_rank("P2"),
        by=OPERATOR,
    )


def rows(engine: Engine, table: sa.Table) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def test_purge_empties_old_texts_everywhere_and_keeps_labels_decisions_and_audit(
    engine: Engine, taxonomy: Taxonomy
) -> None:
    ticket_store, draft_store = TicketStore(engine, taxonomy=taxonomy), DraftStore(engine, taxonomy=taxonomy)
    keep_ticket(ticket_store, taxonomy, "T-old", "my payout of $120 from 2025-01-02 never came, mila@example.com", OLD)
    keep_ticket(ticket_store, taxonomy, "T-new", "where is my payout from last week", RECENT)
    old_draft = a_draft().model_copy(
        update={"id": "DRF-old", "ticket_id": "T-old", "ticket_text": "my payout never came", "created_at": OLD}
    )
    draft_store.save(old_draft)
    draft_store.decide("DRF-old", Decision(kind=DecisionKind.APPROVE, actor="maria"), by=OPERATOR)
    # A draft made today for the old ticket (drafted again) holds the old text too.
    draft_store.save(
        a_draft().model_copy(update={"id": "DRF-again", "ticket_id": "T-old", "ticket_text": "my payout never came"})
    )
    draft_store.save(a_draft().model_copy(update={"id": "DRF-new", "ticket_id": "T-new"}))
    jobs = JobStore(engine)
    job = jobs.create(
        [[(2, Ticket(id="B-1", text="backlog ticket one")), (3, Ticket(id="B-2", text="two"))]],
        skipped=[],
        source="old.csv",
    )
    with engine.begin() as conn:  # the job was submitted long ago and never run
        conn.execute(sa.text("UPDATE jobs SET created_at = :at WHERE id = :id"), {"at": OLD, "id": job})
    audit_before = len(rows(engine, audit_log))
    labels_before = {r["id"]: (r["labels"], r["intent"], r["status"]) for r in rows(engine, tickets)}

    dry = purge_texts(engine, before=CUTOFF, by=OPERATOR, dry_run=True)
    assert (dry.tickets, dry.drafts, dry.job_tickets) == (1, 2, 2)
    assert ticket_store.get("T-old").text.startswith("my payout of $120")
    assert len(rows(engine, audit_log)) == audit_before, "a dry run writes nothing"

    done = purge_texts(engine, before=CUTOFF, by=OPERATOR)
    assert (done.tickets, done.drafts, done.job_tickets) == (1, 2, 2)
    assert ticket_store.get("T-old").text == PURGED_TEXT
    assert ticket_store.get("T-new").text == "where is my payout from last week"
    assert {r["id"]: (r["labels"], r["intent"], r["status"]) for r in rows(engine, tickets)} == labels_before
    assert draft_store.get("DRF-old").ticket_text == PURGED_TEXT
    assert draft_store.get("DRF-again").ticket_text == PURGED_TEXT
    assert draft_store.get("DRF-new").ticket_text == "where is my payout"
    assert draft_store.get("DRF-old").reply == old_draft.reply and draft_store.get("DRF-old").status == "approved"
    assert [(t["draft_id"], t["to_status"]) for t in rows(engine, transitions)] == [("DRF-old", "approved")]
    assert all(t["text"] == PURGED_TEXT for c in rows(engine, job_chunks) for t in c["tickets"])  # type: ignore[attr-defined]
    [entry] = AuditLog(engine).entries(action=AuditAction.TEXTS_PURGED)
    assert entry.actor == "cli:ops" and entry.detail | {"cutoff": None} == {
        "cutoff": None,
        "tickets": 1,
        "drafts": 2,
        "job_tickets": 2,
    }
    assert len(rows(engine, audit_log)) == audit_before + 1, "every earlier entry is kept"
    again = purge_texts(engine, before=CUTOFF, by=OPERATOR)
    assert again.total == 0


def test_secrets_are_removed_before_any_row_is_written(engine: Engine, taxonomy: Taxonomy) -> None:
    ticket_store, draft_store = TicketStore(engine, taxonomy=taxonomy), DraftStore(engine, taxonomy=taxonomy)
    text = f"charged twice on card {CARD}, my password is Hunter2hunter, IBAN DE89 3704 0044 0532 0130 00"
    keep_ticket(ticket_store, taxonomy, "T-secret", text, RECENT)
    draft_store.save(a_draft().model_copy(update={"id": "DRF-s", "ticket_id": "T-secret", "ticket_text": text}))
    edit = Decision(kind=DecisionKind.EDIT, actor="maria", final_text=f"We refunded card {CARD}.", note=f"card {CARD}")
    transition = draft_store.decide("DRF-s", edit, by=OPERATOR)

    assert transition.final_text == "We refunded card [card number removed]."
    dumped = repr([rows(engine, t) for t in (tickets, drafts, transitions, audit_log)])
    for secret in (CARD, "Hunter2hunter", "DE89 3704", "0130 00"):
        assert secret not in dumped
    assert ticket_store.get("T-secret").text == (
        "charged twice on card [card number removed], my password is [password removed], IBAN [bank account removed]"
    )
