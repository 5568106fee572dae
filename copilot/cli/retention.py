"""`copilot purge`: empty stored ticket texts older than the retention period (COPILOT_TEXT_RETENTION_DAYS)."""

from __future__ import annotations

import datetime as dt

import typer

from copilot.cli.context import console, reported_errors, state
from copilot.domain.accounts import Actor
from copilot.domain.drafts import utcnow
from copilot.store.retention import purge_texts


def purge(
    ctx: typer.Context,
    days: int | None = typer.Option(
        None, "--days", min=1, help="Purge texts older than this many days; default COPILOT_TEXT_RETENTION_DAYS."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be purged; change nothing."),
) -> None:
    """Replace the text of tickets received before the cutoff (and their drafts' and backlog jobs' copies) with a
    marker; labels, replies, decisions and audit entries stay. Prints the counts; the purge is audited."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        days = days or cli.settings.text_retention_days
        if days is None:
            raise ValueError("no retention period: set COPILOT_TEXT_RETENTION_DAYS or pass --days N")
        cutoff = utcnow() - dt.timedelta(days=days)
        counts = purge_texts(cli.records().store.engine, before=cutoff, by=Actor.operator("purge"), dry_run=dry_run)
        verb = "Would purge" if dry_run else "Purged"
        console.print(
            f"{verb} the text of {counts.tickets} tickets, {counts.drafts} drafts and {counts.job_tickets} backlog "
            f"tickets received before {cutoff:%Y-%m-%d %H:%M} UTC ({days} days)",
            markup=False,
            highlight=False,
        )
