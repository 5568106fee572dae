"""The records' stores against a real database (SQLite and PostgreSQL): tickets and their corrections, accounts
and keys, the audit log every write appends to, and the SOP versions as published."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from copilot.domain import Decision, DecisionKind, Ticket
from copilot.domain.accounts import Actor, ActorKind, Role
from copilot.domain.records import AuditAction, TicketStatus, sla_due
from copilot.domain.taxonomy import Taxonomy
from copilot.store.accounts import (
    AccountError,
    AccountExists,
    AccountNotFound,
    AccountStore,
    NotSignedIn,
    SignInLimits,
    SignInRefused,
    SignInThrottled,
)
from copilot.store.audit import AuditLog
from copilot.store.database import open_engine
from copilot.store.drafts import DraftStore
from copilot.store.sop_versions import SopVersionStore, VersionNotFound
from copilot.store.tables import api_keys, users
from copilot.store.tickets import QueueFilter, TicketNotFound, TicketStore
from knowledge_base.loader import load_document
from tests.factories import SOP_DIR, a_draft, labels

pytestmark = pytest.mark.integration

RECEIVED = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
INTAKE = Actor(name="key:helpdesk", kind=ActorKind.KEY, role=Role.SERVICE, address="10.0.0.7")
SPECIALIST = Actor(name="maria", kind=ActorKind.USER, role=Role.SPECIALIST, address="10.0.0.8")
OPERATOR = Actor.operator("cli:ops")
LIMITS = SignInLimits(max_failures=3, window=dt.timedelta(minutes=15))
PASSWORD = "correct horse battery"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def tickets(engine: Engine) -> TicketStore:
    return TicketStore(engine)


@pytest.fixture
def accounts(engine: Engine) -> AccountStore:
    return AccountStore(engine, limits=LIMITS, session_hours=8)


def keep(
    store: TicketStore,
    taxonomy: Taxonomy,
    ticket_id: str,
    *,
    priority: str = "P2",
    hours_later: float = 0,
    helpdesk_id: str | None = None,
    lob: str = "creator_rewards",
    intent: str = "payout_missing",
    language: str = "en",
    flags: tuple[str, ...] = (),
) -> tuple[str, bool]:
    """Store a ticket as intake does; returns the id of the record kept and whether it is new."""
    received = RECEIVED + dt.timedelta(hours=hours_later)
    triage = labels(intent, language, lob).model_copy(
        update={"ticket_id": ticket_id, "priority": priority, "risk_flags": list(flags)}
    )
    record, new = store.store(
        Ticket(id=ticket_id, text=f"ticket {ticket_id}: where is my payout"),
        triage,
        helpdesk_id=helpdesk_id,
        received_at=received,
        taxonomy_version=taxonomy.version,
        sla_due_at=sla_due(received, priority, taxonomy),
        priority_rank=taxonomy.priority_rank(priority),
        by=INTAKE,
    )
    return record.id, new


# Tickets


def test_a_ticket_sent_again_with_its_helpdesk_id_is_kept_once(
    tickets: TicketStore, engine: Engine, taxonomy: Taxonomy
) -> None:
    assert keep(tickets, taxonomy, "TKT-1", helpdesk_id="HD-9") == ("TKT-1", True)
    assert keep(tickets, taxonomy, "TKT-2", helpdesk_id="HD-9") == ("TKT-1", False), "the kept record comes back"
    assert tickets.count() == 1
    assert tickets.get("TKT-1").helpdesk_id == "HD-9"
    stored = AuditLog(engine).entries(action=AuditAction.TICKET_STORED)
    assert [(e.target, e.actor, e.role, e.address) for e in stored] == [
        ("TKT-1", "key:helpdesk", "service", "10.0.0.7")
    ]
    with pytest.raises(TicketNotFound, match="TKT-2"):
        tickets.get("TKT-2")


def test_the_queue_is_most_urgent_first_and_narrows_by_lob_flag_language_and_status(
    tickets: TicketStore, engine: Engine, taxonomy: Taxonomy
) -> None:
    keep(tickets, taxonomy, "T-p3", priority="P3")
    keep(tickets, taxonomy, "T-p2-late", priority="P2", hours_later=2)
    keep(tickets, taxonomy, "T-p2-early", priority="P2", hours_later=1, flags=("pii_shared",))
    keep(tickets, taxonomy, "T-p1", priority="P1", hours_later=3, lob="account_access", intent="login_issue")
    keep(tickets, taxonomy, "T-es", priority="P4", language="es", flags=("legal_threat", "pii_shared"))

    def queue(**where: object) -> list[str]:
        return [t.id for t in tickets.queue(QueueFilter(**where))]  # type: ignore[arg-type]

    assert queue() == ["T-p1", "T-p2-early", "T-p2-late", "T-p3", "T-es"]
    assert queue(lob="account_access") == ["T-p1"]
    assert queue(risk_flag="pii_shared") == ["T-p2-early", "T-es"]
    assert queue(risk_flag="legal_threat") == ["T-es"]
    assert queue(risk_flag="pii") == [], "a flag is matched whole, not as a prefix"
    assert queue(language="es") == ["T-es"]

    # A sent reply answers the ticket: it leaves the open queue.
    drafts = DraftStore(engine)
    draft = drafts.save(a_draft().model_copy(update={"id": "DRF-q1", "ticket_id": "T-p1"}), by=INTAKE)
    drafts.decide(draft.id, Decision(kind=DecisionKind.APPROVE, actor="maria"), by=SPECIALIST)
    assert tickets.get("T-p1").status is TicketStatus.ANSWERED
    assert tickets.get("T-p1").latest_draft_id == "DRF-q1"
    assert "T-p1" not in queue()
    assert queue(status=TicketStatus.ANSWERED) == ["T-p1"]
    assert len(queue(status=None)) == 5


def test_a_correction_keeps_old_and_new_labels_and_moves_the_sla(
    tickets: TicketStore, engine: Engine, taxonomy: Taxonomy
) -> None:
    keep(tickets, taxonomy, "T-slow", priority="P3")
    keep(tickets, taxonomy, "T-other", priority="P2")
    model = tickets.get("T-slow").labels
    corrected = model.model_copy(update={"intent": "hacked_account", "priority": "P1", "risk_flags": ["pii_shared"]})

    correction = tickets.correct(
        "T-slow",
        corrected,
        sla_due_at=sla_due(RECEIVED, "P1", taxonomy),
        priority_rank=taxonomy.priority_rank("P1"),
        by=SPECIALIST,
    )

    record = tickets.get("T-slow")
    assert (correction.old, correction.new, correction.actor) == (model, corrected, "maria")
    assert record.labels == corrected and record.model_labels == model, "the model's labels are never overwritten"
    assert record.corrected
    assert record.sla_due_at == RECEIVED + dt.timedelta(hours=taxonomy.priorities["P1"].sla_hours)
    assert [t.id for t in tickets.queue(QueueFilter())] == ["T-slow", "T-other"]
    assert [t.id for t in tickets.queue(QueueFilter(risk_flag="pii_shared"))] == ["T-slow"]
    [(kept, again)] = list(tickets.corrections())
    assert kept.id == "T-slow" and again == correction
    [entry] = AuditLog(engine).entries(action=AuditAction.LABELS_CORRECTED)
    assert (entry.actor, entry.target) == ("maria", "T-slow")
    assert entry.detail["changed"] == {"intent": "hacked_account", "priority": "P1", "risk_flags": ["pii_shared"]}

    with pytest.raises(TicketNotFound):
        tickets.correct("T-none", corrected, sla_due_at=RECEIVED, priority_rank=0, by=SPECIALIST)
    assert len(list(tickets.corrections())) == 1
    assert len(AuditLog(engine).entries(action=AuditAction.LABELS_CORRECTED)) == 1, "nothing half-written"


# Accounts


def test_a_password_is_kept_only_as_an_argon2_hash_and_signs_in(accounts: AccountStore, engine: Engine) -> None:
    accounts.add_user("maria", Role.SPECIALIST, PASSWORD, by=OPERATOR)
    with engine.connect() as conn:
        kept = conn.execute(sa.select(users.c.password_hash).where(users.c.name == "maria")).scalar_one()
    assert kept.startswith("$argon2") and PASSWORD not in kept

    token, session = accounts.sign_in("maria", PASSWORD, address="10.0.0.8")
    assert session.user.name == "maria" and session.user.role is Role.SPECIALIST
    assert accounts.session(token).csrf_token == session.csrf_token
    accounts.sign_out(token, by=session.user.actor())
    with pytest.raises(NotSignedIn):
        accounts.session(token)


def test_wrong_passwords_unknown_names_and_disabled_accounts_are_refused_alike(accounts: AccountStore) -> None:
    accounts.add_user("maria", Role.SPECIALIST, PASSWORD, by=OPERATOR)
    token, _ = accounts.sign_in("maria", PASSWORD, address="a")
    with pytest.raises(SignInRefused, match="wrong user name or password"):
        accounts.sign_in("maria", "not the password", address="b")
    with pytest.raises(SignInRefused, match="wrong user name or password"):
        accounts.sign_in("nobody", PASSWORD, address="c")

    accounts.disable_user("maria", by=OPERATOR)
    assert not accounts.user("maria").active
    with pytest.raises(NotSignedIn):
        accounts.session(token)  # the open session ended with the account
    with pytest.raises(SignInRefused):
        accounts.sign_in("maria", PASSWORD, address="d")


def test_bad_names_short_passwords_and_taken_names_are_refused_with_the_reason(accounts: AccountStore) -> None:
    with pytest.raises(AccountError, match="user name 'Bad Name!'"):
        accounts.add_user("Bad Name!", Role.QA, PASSWORD, by=OPERATOR)
    with pytest.raises(AccountError, match="at least 10 characters"):
        accounts.add_user("joe", Role.QA, "short", by=OPERATOR)
    accounts.add_user("joe", Role.QA, PASSWORD, by=OPERATOR)
    with pytest.raises(AccountExists, match="'joe' already exists"):
        accounts.add_user("joe", Role.ADMIN, PASSWORD, by=OPERATOR)
    assert [(u.name, u.role) for u in accounts.users()] == [("joe", Role.QA)]
    with pytest.raises(AccountNotFound, match="no user 'ghost'"):
        accounts.set_password("ghost", PASSWORD, by=OPERATOR)
    with pytest.raises(AccountNotFound, match="no user 'ghost'"):
        accounts.disable_user("ghost", by=OPERATOR)


def test_a_new_password_replaces_the_old_one(accounts: AccountStore) -> None:
    accounts.add_user("joe", Role.QA, PASSWORD, by=OPERATOR)
    accounts.set_password("joe", "a brand new passphrase", by=OPERATOR)
    with pytest.raises(SignInRefused):
        accounts.sign_in("joe", PASSWORD, address="a")
    assert accounts.sign_in("joe", "a brand new passphrase", address="a")[1].user.name == "joe"


def test_sign_in_is_throttled_after_too_many_failures_by_name_and_by_address(accounts: AccountStore) -> None:
    accounts.add_user("maria", Role.SPECIALIST, PASSWORD, by=OPERATOR)
    for n in range(LIMITS.max_failures):
        with pytest.raises(SignInRefused):
            accounts.sign_in("maria", f"guess number {n}", address=f"10.1.0.{n}")
    with pytest.raises(SignInThrottled) as throttled:
        accounts.sign_in("maria", PASSWORD, address="10.9.9.9")  # even the right password, from anywhere
    assert 0 < throttled.value.retry_after_s <= LIMITS.window.total_seconds() + 1

    # One address trying many names is held back too, while others still sign in.
    for name in ("ann", "bob", "cat"):
        with pytest.raises(SignInRefused):
            accounts.sign_in(name, PASSWORD, address="10.6.6.6")
    with pytest.raises(SignInThrottled):
        accounts.sign_in("dan", PASSWORD, address="10.6.6.6")
    accounts.add_user("eve", Role.QA, PASSWORD, by=OPERATOR)
    assert accounts.sign_in("eve", PASSWORD, address="10.0.0.1")[1].user.name == "eve"


def test_a_session_expires_after_its_hours(engine: Engine) -> None:
    brief = AccountStore(engine, limits=LIMITS, session_hours=0.1 / 3600)  # a tenth of a second
    brief.add_user("maria", Role.SPECIALIST, PASSWORD, by=OPERATOR)
    token, session = brief.sign_in("maria", PASSWORD, address="a")
    assert session.expires_at > session.user.created_at
    time.sleep(0.3)
    with pytest.raises(NotSignedIn, match="expired"):
        brief.session(token)


def test_an_api_key_works_until_revoked_and_only_its_hash_is_kept(accounts: AccountStore, engine: Engine) -> None:
    key, secret = accounts.create_key("helpdesk-webhook", Role.SERVICE, by=OPERATOR)
    assert accounts.key_for(secret) == key
    assert key.actor().name == "key:helpdesk-webhook" and key.actor().role is Role.SERVICE
    with engine.connect() as conn:
        [row] = conn.execute(sa.select(api_keys)).mappings()
    assert all(secret.rsplit("_", 1)[1] not in str(value) for value in row.values())

    with pytest.raises(NotSignedIn, match="unknown"):
        accounts.key_for(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    with pytest.raises(NotSignedIn, match="malformed"):
        accounts.key_for("not-a-key")

    accounts.revoke_key(key.id, by=OPERATOR)
    with pytest.raises(NotSignedIn, match="revoked"):
        accounts.key_for(secret)
    with pytest.raises(AccountError, match="already revoked"):
        accounts.revoke_key(key.id, by=OPERATOR)
    with pytest.raises(AccountNotFound, match="no API key 'nope'"):
        accounts.revoke_key("nope", by=OPERATOR)
    listed = accounts.keys()  # a list of keys, not a mapping's
    assert [(k.id, k.active) for k in listed] == [(key.id, False)]


# The audit log


def test_every_account_write_is_audited_with_who_and_no_secret(accounts: AccountStore, engine: Engine) -> None:
    accounts.add_user("maria", Role.SPECIALIST, PASSWORD, by=OPERATOR)
    accounts.set_password("maria", "another long password", by=OPERATOR)
    with pytest.raises(SignInRefused):
        accounts.sign_in("maria", PASSWORD, address="10.0.0.8")
    token, session = accounts.sign_in("maria", "another long password", address="10.0.0.8")
    accounts.sign_out(token, by=session.user.actor(address="10.0.0.8"))
    key, secret = accounts.create_key("helpdesk", Role.SERVICE, by=OPERATOR)
    accounts.revoke_key(key.id, by=OPERATOR)
    accounts.disable_user("maria", by=OPERATOR)

    log = AuditLog(engine)
    entries = log.entries()
    assert [(e.action, e.actor, e.target) for e in reversed(entries)] == [
        (AuditAction.USER_CREATED, "cli:ops", "maria"),
        (AuditAction.USER_PASSWORD_SET, "cli:ops", "maria"),
        (AuditAction.SIGN_IN_FAILED, "maria", "maria"),
        (AuditAction.SIGNED_IN, "maria", "maria"),
        (AuditAction.SIGNED_OUT, "maria", "maria"),
        (AuditAction.KEY_CREATED, "cli:ops", key.id),
        (AuditAction.KEY_REVOKED, "cli:ops", key.id),
        (AuditAction.USER_DISABLED, "cli:ops", "maria"),
    ]
    assert entries[0].actor_kind == "cli" and entries[0].address == "cli"
    assert all(e.at.tzinfo is not None for e in entries)
    written = " ".join(e.model_dump_json() for e in entries)
    for secret_text in (PASSWORD, "another long password", secret, token):
        assert secret_text not in written

    assert [e.action for e in log.entries(actor="maria")] == [
        AuditAction.SIGNED_OUT,
        AuditAction.SIGNED_IN,
        AuditAction.SIGN_IN_FAILED,
    ]
    assert len(log.entries(target=key.id)) == 2
    newest_two = log.entries(limit=2)
    assert [e.action for e in log.entries(before_id=newest_two[-1].id, limit=1)] == [AuditAction.KEY_CREATED]


# SOP versions


def test_each_published_version_is_kept_once_and_read_back_as_it_was(
    engine: Engine, taxonomy: Taxonomy, tmp_path: Path
) -> None:
    versions = SopVersionStore(engine)
    source = tmp_path / "SOP-CR-03.md"
    first_text = (SOP_DIR / "SOP-CR-03.md").read_text(encoding="utf-8")
    source.write_text(first_text, encoding="utf-8")
    first = load_document(source, taxonomy)
    publisher = Actor.system("ingest")

    assert versions.record([(first, first_text)], by=publisher) == [f"SOP-CR-03 {first.version}"]
    assert versions.record([(first, first_text)], by=publisher) == [], "the same content is kept once"

    second_text = first_text.replace(f"version: {first.version}", "version: 9.0.0", 1)
    assert second_text != first_text
    source.write_text(second_text, encoding="utf-8")
    second = load_document(source, taxonomy)
    assert versions.record([(second, second_text)], by=publisher) == ["SOP-CR-03 9.0.0"]

    old = versions.get("SOP-CR-03", first.version)
    assert (old.text, old.content_hash, old.published_by) == (first_text, first.content_hash, "copilot:ingest")
    assert versions.get("SOP-CR-03", "9.0.0").text == second_text
    assert [v.version for v in versions.versions("SOP-CR-03")] == [first.version, "9.0.0"]
    with pytest.raises(VersionNotFound, match=r"no published version 1\.0\.0 of 'SOP-CR-03'"):
        versions.get("SOP-CR-03", "1.0.0")
