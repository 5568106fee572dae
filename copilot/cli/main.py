"""`copilot`: the root command. It builds the one Settings object and hands it to every verb."""

from __future__ import annotations

import typer

from copilot.cli import (
    accounts,
    backup,
    bench,
    db,
    eval_cmd,
    impact,
    jobs,
    kb,
    library_health,
    retention,
    serve,
    sop_workbench,
    tickets,
    triage_cmd,
    worker,
)
from copilot.cli.context import CliState, reported_errors
from copilot.observability import configure_logging
from copilot.settings import Settings

app = typer.Typer(
    help="Support copilot: ingest SOPs, triage tickets, draft cited replies, serve the API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(kb.app, name="kb")
library_health.register(kb.app)  # copilot kb coverage, gaps, conflicts, suggestions
sop_workbench.register(kb.app)  # copilot kb docs, revise, diff, publish, discard, rollback, retire
impact.register(kb.app)  # copilot kb impact
app.add_typer(triage_cmd.app, name="triage")
jobs.register(triage_cmd.app)  # copilot triage job, job-status, job-results
app.add_typer(eval_cmd.app, name="eval")
app.add_typer(bench.app, name="bench")
app.add_typer(db.app, name="db")
app.add_typer(accounts.users_app, name="users")
app.add_typer(accounts.keys_app, name="keys")
app.command("suggest")(tickets.suggest)
app.command("decide")(tickets.decide)
app.command("export-decisions")(tickets.export_decisions)
app.command("export-corrections")(tickets.export_corrections)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore_command)
app.command("purge")(retention.purge)


@app.callback()
def root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
) -> None:
    """Settings come from COPILOT_* environment variables and .env (see .env.example)."""
    with reported_errors(debug):
        ctx.obj = CliState(settings=Settings(), debug=debug)
        configure_logging(ctx.obj.settings)


def main() -> None:
    app()
