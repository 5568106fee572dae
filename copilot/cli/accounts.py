"""`copilot users` and `copilot keys`: the operator's accounts commands, on the server's machine.

Whoever runs them has the data dir, so they act without signing in; each write is audited as the operator
(`cli:<login name>`). A secret (a generated password, a key) is printed once to stdout and never kept in
clear: the database holds only its hash.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys

import typer
from rich.table import Table

from copilot.cli.context import console, reported_errors, state
from copilot.domain.accounts import Actor, Role
from copilot.services import new_password

users_app = typer.Typer(help="People's accounts for the console and the API.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for services such as the helpdesk's intake webhook.", no_args_is_help=True)

PASSWORD_STDIN_HELP = "Read the password from the first line of stdin instead of generating one."


def operator() -> Actor:
    """The person at the terminal, as the audit log records them."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # a container user with no name in /etc/passwd and no LOGNAME
        login = "unknown"
    return Actor.operator(f"cli:{login}")


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set and whether it was generated (and so must be shown)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return new_password(), True


def _when(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _show_once(what: str, secret: str) -> None:
    console.print(f"{what}: {secret}", markup=False, highlight=False)
    console.print("It is shown this once: only its hash is kept.", markup=False, highlight=False)


@users_app.command("add")
def add_user(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The name they sign in with: 2 to 63 of a-z 0-9 . _ -."),
    role: Role = typer.Option(..., "--role", help="What they may do."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
) -> None:
    """Add a person's account; without --password-stdin a strong password is generated and printed once."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        password, generated = _password(password_stdin)
        user = cli.records().accounts.add_user(name, role, password, by=operator())
        console.print(f"Added {user.name} ({user.role.value})", markup=False, highlight=False)
        if generated:
            _show_once(f"Password of {user.name}", password)


@users_app.command("list")
def list_users(ctx: typer.Context) -> None:
    """Every account: name, role, when it was made, and whether it may sign in."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        table = Table("name", "role", "created", "active")
        for user in cli.records().accounts.users():
            table.add_row(user.name, user.role.value, _when(user.created_at), "yes" if user.active else "no")
        console.print(table)


@users_app.command("disable")
def disable_user(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The account to disable."),
) -> None:
    """Stop an account from signing in, ending its open sessions now (its history stays)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        user = cli.records().accounts.disable_user(name, by=operator())
        console.print(f"Disabled {user.name}: it can no longer sign in", markup=False, highlight=False)


@users_app.command("password")
def set_password(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The account whose password to set."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
) -> None:
    """Set a new password; without --password-stdin one is generated and printed once."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        password, generated = _password(password_stdin)
        cli.records().accounts.set_password(name, password, by=operator())
        console.print(f"Set the password of {name}", markup=False, highlight=False)
        if generated:
            _show_once(f"Password of {name}", password)


@keys_app.command("create")
def create_key(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="What uses the key, such as 'helpdesk-webhook'."),
    role: Role = typer.Option(Role.SERVICE, "--role", help="What the key may do."),
) -> None:
    """Create an API key and print its secret once (callers send it as the X-API-Key header)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        key, secret = cli.records().accounts.create_key(name, role, by=operator())
        console.print(f"Created API key {key.id} ({key.name}, {key.role.value})", markup=False, highlight=False)
        _show_once("Key", secret)


@keys_app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """Every API key: id, name, role, when it was made, and whether it still works (never the secret)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        table = Table("id", "name", "role", "created", "active")
        keys = cli.records().accounts.keys()  # a list of ApiKey (not a mapping's keys)
        for key in keys:
            table.add_row(key.id, key.name, key.role.value, _when(key.created_at), "yes" if key.active else "no")
        console.print(table)


@keys_app.command("revoke")
def revoke_key(
    ctx: typer.Context,
    key_id: str = typer.Argument(..., help="The key's id, as `copilot keys list` shows it."),
) -> None:
    """Revoke an API key: calls with it are refused from now on."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        key = cli.records().accounts.revoke_key(key_id, by=operator())
        console.print(f"Revoked API key {key.id} ({key.name})", markup=False, highlight=False)
