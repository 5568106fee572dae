"""`copilot db upgrade`: bring the records database to the newest schema, and make the first account.

Both this command and `copilot serve` print what the upgrade did and, on a database with no user, the first
admin's password: from COPILOT_ADMIN_PASSWORD, or generated and shown here once (stdout only, never logged).
"""

from __future__ import annotations

import typer

from copilot.cli.context import console, reported_errors, state
from copilot.services import Records, ensure_first_admin
from copilot.settings import Settings

app = typer.Typer(help="The records database (SQLite or PostgreSQL).", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(ctx: typer.Context) -> None:
    """Upgrade the schema to the newest revision, keeping every row; then make `admin` if there is no user."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        report_database(cli.records(), cli.settings, host=cli.settings.host, port=cli.settings.port)


def report_database(records: Records, settings: Settings, *, host: str, port: int) -> None:
    """Say what opening the database did to its schema, and make (and announce) the first admin if needed."""
    console.print(str(records.schema), markup=False, highlight=False)
    first = ensure_first_admin(records, settings)
    if first is None:
        return
    if first.one_time_password is None:
        console.print(f"Created the first account: {first.name} (password from COPILOT_ADMIN_PASSWORD)")
        return
    console.print(
        f"Created the first account: {first.name}, one-time password: {first.one_time_password} — sign in at "
        f"http://{host}:{port}/console and change it with `copilot users password {first.name}`",
        markup=False,
        highlight=False,
    )
