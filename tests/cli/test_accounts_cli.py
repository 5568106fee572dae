"""The operator's commands on a fresh data dir: `copilot db upgrade` and the first admin, `users`, `keys`,
`decide` and `export-corrections`. Each secret printed works once checked against the real stores; every
mistake is one line on stderr and exit 1."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.domain import Ticket
from copilot.domain.accounts import Actor, ActorKind, Role
from copilot.domain.records import AuditAction, sla_due
from copilot.services import Records, Services, open_records
from copilot.store.accounts import NotSignedIn, SignInRefused
from copilot.store.database import head_revision
from copilot.triage.training import read_examples
from tests.factories import a_draft, labels, make_settings

pytestmark = pytest.mark.integration

runner = CliRunner()
OPERATOR = f"cli:{getpass.getuser()}"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir of the test's own, where the CLI's Settings keep the database."""
    data = tmp_path / "data"
    monkeypatch.setenv("COPILOT_DATA_DIR", str(data))
    for variable in ("COPILOT_DATABASE_URL", "COPILOT_ADMIN_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    return data


@pytest.fixture
def records(data_dir: Path) -> Iterator[Records]:
    """The same database, opened as the copilot does, to check what the commands did."""
    opened = open_records(make_settings(data_dir))
    yield opened
    opened.close()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def printed(pattern: str, out: str) -> str:
    match = re.search(pattern, out)
    assert match, f"{pattern!r} not in:\n{out}"
    return match.group(1)


def one_line_error(code: int, err: str, *expected: str) -> None:
    assert code == 1
    assert err.startswith("error: ") and err.strip().count("\n") == 0, err
    for text in expected:
        assert text in err


def test_db_upgrade_creates_the_database_and_a_first_admin_whose_one_time_password_signs_in(data_dir: Path) -> None:
    code, out, _ = run("db", "upgrade")

    assert code == 0
    assert f"Database sqlite:///{data_dir / 'copilot.db'}: created at {head_revision()}" in out
    password = printed(r"Created the first account: admin, one-time password: (\S+) — sign in at", out)
    assert "http://127.0.0.1:8000/console" in out and "copilot users password admin" in out
    records = open_records(make_settings(data_dir))
    try:
        assert records.accounts.sign_in("admin", password, address="test")[1].user.role is Role.ADMIN
    finally:
        records.close()

    code, again, _ = run("db", "upgrade")
    assert code == 0
    assert f"already at {head_revision()}" in again and "Created the first account" not in again


def test_the_first_admin_takes_the_configured_password_and_it_is_never_printed(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_ADMIN_PASSWORD", "set-by-the-operator-42")
    code, out, _ = run("db", "upgrade")

    assert code == 0
    assert "Created the first account: admin (password from COPILOT_ADMIN_PASSWORD)" in out
    assert "set-by-the-operator-42" not in out
    records = open_records(make_settings(data_dir))
    try:
        assert records.accounts.sign_in("admin", "set-by-the-operator-42", address="test")[1].user.name == "admin"
    finally:
        records.close()


def test_a_too_short_admin_password_is_a_one_line_error_and_no_account_is_made(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_ADMIN_PASSWORD", "short")
    code, _, err = run("db", "upgrade")
    one_line_error(code, err, "at least 10 characters")
    monkeypatch.delenv("COPILOT_ADMIN_PASSWORD")
    records = open_records(make_settings(data_dir))
    try:
        assert records.accounts.users() == []
    finally:
        records.close()


def test_users_add_list_disable_and_password(records: Records) -> None:
    code, out, _ = run("users", "add", "maria", "--role", "specialist")
    assert code == 0 and "Added maria (specialist)" in out and "shown this once" in out
    generated = printed(r"Password of maria: (\S+)", out)
    assert records.accounts.sign_in("maria", generated, address="a")[1].user.role is Role.SPECIALIST

    code, out, _ = run("users", "add", "joe", "--role", "qa", "--password-stdin", stdin="joe's own passphrase\n")
    assert code == 0 and "Added joe (qa)" in out and "Password of" not in out
    assert records.accounts.sign_in("joe", "joe's own passphrase", address="a")[1].user.name == "joe"

    code, out, _ = run("users", "disable", "joe")
    assert code == 0 and "Disabled joe" in out
    with pytest.raises(SignInRefused):
        records.accounts.sign_in("joe", "joe's own passphrase", address="a")

    code, out, _ = run("users", "list")
    assert code == 0
    rows = {line.split()[1]: line for line in out.splitlines() if re.match(r"^│ (joe|maria) ", line)}
    assert "qa" in rows["joe"] and rows["joe"].rstrip(" │").endswith("no")
    assert "specialist" in rows["maria"] and rows["maria"].rstrip(" │").endswith("yes")

    code, out, _ = run("users", "password", "maria")
    assert code == 0
    renewed = printed(r"Password of maria: (\S+)", out)
    assert renewed != generated
    with pytest.raises(SignInRefused):
        records.accounts.sign_in("maria", generated, address="b")
    code, _, _ = run("users", "password", "maria", "--password-stdin", stdin="chosen by maria herself\n")
    assert code == 0
    assert records.accounts.sign_in("maria", "chosen by maria herself", address="b")[1].user.name == "maria"

    audited = [(e.action, e.target) for e in reversed(records.audit.entries(actor=OPERATOR))]
    assert audited == [
        (AuditAction.USER_CREATED, "maria"),
        (AuditAction.USER_CREATED, "joe"),
        (AuditAction.USER_DISABLED, "joe"),
        (AuditAction.USER_PASSWORD_SET, "maria"),
        (AuditAction.USER_PASSWORD_SET, "maria"),
    ]
    assert {e.actor_kind for e in records.audit.entries(actor=OPERATOR)} == {ActorKind.CLI.value}


def test_keys_create_list_and_revoke(records: Records) -> None:
    code, out, _ = run("keys", "create", "helpdesk-webhook")
    assert code == 0 and "shown this once" in out
    key_id = printed(r"Created API key (\w+) \(helpdesk-webhook, service\)", out)
    secret = printed(r"Key: (\S+)", out)
    assert records.accounts.key_for(secret).id == key_id

    code, out, _ = run("keys", "create", "qa-exports", "--role", "qa")
    assert code == 0 and "(qa-exports, qa)" in out

    code, out, _ = run("keys", "list")
    assert code == 0 and secret not in out
    [row] = [line for line in out.splitlines() if key_id in line]
    assert "helpdesk-webhook" in row and "service" in row and row.rstrip(" │").endswith("yes")

    code, out, _ = run("keys", "revoke", key_id)
    assert code == 0 and f"Revoked API key {key_id} (helpdesk-webhook)" in out
    with pytest.raises(NotSignedIn, match="revoked"):
        records.accounts.key_for(secret)
    [row] = [line for line in run("keys", "list")[1].splitlines() if key_id in line]
    assert row.rstrip(" │").endswith("no")
    assert [e.action for e in records.audit.entries(target=key_id)] == [
        AuditAction.KEY_REVOKED,
        AuditAction.KEY_CREATED,
    ]


def test_mistakes_are_one_line_errors_with_exit_1(records: Records) -> None:
    records.accounts.add_user("maria", Role.SPECIALIST, "a long enough password", by=Actor.operator("tests"))
    key, _ = records.accounts.create_key("old", Role.SERVICE, by=Actor.operator("tests"))
    records.accounts.revoke_key(key.id, by=Actor.operator("tests"))

    one_line_error(*run("users", "disable", "ghost")[::2], "no user 'ghost'")
    one_line_error(*run("users", "password", "ghost")[::2], "no user 'ghost'")
    one_line_error(*run("users", "password", "maria", "--password-stdin", stdin="short\n")[::2], "at least 10")
    one_line_error(*run("users", "add", "maria", "--role", "qa")[::2], "user 'maria' already exists")
    one_line_error(*run("users", "add", "Not Valid", "--role", "qa")[::2], "user name 'Not Valid'")
    one_line_error(*run("keys", "revoke", "nope")[::2], "no API key 'nope'")
    one_line_error(*run("keys", "revoke", key.id)[::2], "already revoked")
    assert [u.name for u in records.accounts.users()] == ["maria"], "nothing was added by a refused command"


def test_decide_records_the_actor_as_an_operator(records: Records) -> None:
    draft = records.store.save(a_draft().model_copy(update={"id": f"DRF-{uuid.uuid4().hex[:12]}"}))

    code, out, _ = run("decide", draft.id, "approve", "--actor", "agent-7")

    assert code == 0 and json.loads(out)["actor"] == "agent-7"
    [entry] = records.audit.entries(action=AuditAction.DRAFT_DECIDED, target=draft.id)
    assert (entry.actor, entry.actor_kind, entry.address) == ("agent-7", "cli", "cli")


def test_export_corrections_writes_what_triage_train_reads_without_personal_data(
    records: Records, data_dir: Path
) -> None:
    taxonomy, received = records.taxonomy, dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
    text = "my payout never came, write to mila@example.com"
    model = labels("payout_missing", "en", "creator_rewards").model_copy(update={"ticket_id": "T-42"})
    records.tickets.store(
        Ticket(id="T-42", text=text),
        model,
        helpdesk_id=None,
        received_at=received,
        taxonomy_version=taxonomy.version,
        sla_due_at=sla_due(received, "P2", taxonomy),
        priority_rank=taxonomy.priority_rank("P2"),
        by=Actor.operator("tests"),
    )
    corrected = model.model_copy(update={"intent": "hacked_account", "risk_flags": ["pii_shared"], "priority": "P1"})
    records.tickets.correct(
        "T-42", corrected, sla_due_at=sla_due(received, "P1", taxonomy), priority_rank=0, by=Actor.operator("maria")
    )
    target = data_dir / "exports" / "corrections.jsonl"

    code, out, _ = run("export-corrections", str(target))

    assert code == 0 and f"1 corrected tickets written to {target}" in out
    assert f"copilot triage train {target} --flags-column risk_flags" in out
    [example] = read_examples(target, flags_column="risk_flags")
    assert (example.label, example.flags) == ("hacked_account", frozenset({"pii_shared"}))
    assert "mila@example.com" not in target.read_text() and "[redacted]" in example.text


def test_suggest_keeps_the_ticket_once_per_helpdesk_id(ready: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """The only test here on the shared, trained services: suggesting needs the model and the index."""
    for variable, value in {
        "COPILOT_DATA_DIR": ready.settings.data_dir,
        "COPILOT_SOP_DIR": ready.settings.sop_dir,
        "COPILOT_DATASETS_DIR": ready.settings.datasets_dir,
        "COPILOT_TRAINING_DIR": ready.settings.training_dir,
    }.items():
        monkeypatch.setenv(variable, str(value))
    helpdesk_id = f"HD-{uuid.uuid4().hex[:10]}"
    asked = ("suggest", "where is my payout? it has been 3 weeks", "--helpdesk-id", helpdesk_id)

    code, out, _ = run(*asked)
    assert code == 0
    first = json.loads(out)
    code, out, _ = run(*asked)
    assert code == 0
    second = json.loads(out)

    record = ready.tickets.find("", helpdesk_id=helpdesk_id)
    assert record is not None and record.id == first["ticket_id"] == second["ticket_id"]
    assert [d.id for d in ready.store.of_ticket(record.id)] == [first["id"], second["id"]]
    assert ready.tickets.get(record.id).latest_draft_id == second["id"]
    stored = ready.audit.entries(action=AuditAction.TICKET_STORED, target=record.id)
    assert [(e.actor, e.actor_kind) for e in stored] == [("cli", "cli")], "kept once, by the operator"
