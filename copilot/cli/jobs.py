"""`copilot triage job`, `job-status`, `job-results`: re-tag a backlog as a job, follow it, write its labels.

With COPILOT_BROKER_URL set the job's chunks go to the `copilot worker` processes and the command returns
the queued job (or follows it with --wait); without, the job runs here, with a progress bar."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import Progress

from copilot.cli.context import console, errors, reported_errors, state
from copilot.cli.triage_cmd import BATCH_COLUMNS
from copilot.jobs import BacklogJobs
from copilot.store.jobs import JobState, JobStatus
from copilot.triage.tables import write_rows

POLL_S = 0.5


class JobFailed(RuntimeError):
    """The job ended failed: one line with its id and reason."""


def register(app: typer.Typer) -> None:
    """Add the job commands to the `copilot triage` group."""
    app.command("job")(job)
    app.command("job-status")(job_status)
    app.command("job-results")(job_results)


def job(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="Tickets to tag: a .jsonl or .csv file."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the ticket text."),
    id_column: str | None = typer.Option("id", "--id-column", help="Column holding the ticket id, if any."),
    wait: bool = typer.Option(
        False, "--wait", help="With a broker, follow the job to its end (without one, it always runs here)."
    ),
) -> None:
    """Submit a backlog as a job; prints the job (JSON, with its id). Bad rows are listed and skipped."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        jobs = BacklogJobs(cli.services(triage_model=not cli.settings.broker_url, train_if_missing=True))
        job_id = jobs.create(source, text_column=text_column, id_column=id_column or None)
        total = jobs.status(job_id).progress.tickets_total
        with Progress(console=console, transient=True) as progress:
            bar = progress.add_task(f"Tagging {total} tickets ({job_id})", total=total)
            if not jobs.on_workers:
                jobs.run_here(job_id, progress=lambda n: progress.advance(bar, n))
            else:
                jobs.start(job_id)
                while wait and not _finished(status := jobs.status(job_id)):
                    progress.update(bar, completed=status.progress.tickets_done)
                    time.sleep(POLL_S)
        status = jobs.status(job_id)
        for row in status.progress.skipped:
            errors.print(f"skipped {source.name} line {row.line}: {row.problem}", markup=False, highlight=False)
        console.print_json(status.model_dump_json())
        _raise_if_failed(status)


def job_status(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job's id (JOB-...)."),
) -> None:
    """Print a job's state and progress (JSON): chunks and tickets done, rows skipped, chunks retried."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        console.print_json(BacklogJobs(cli.services()).status(job_id).model_dump_json())


def job_results(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job's id (JOB-...)."),
    target: Path = typer.Argument(..., help="Where to write the labels: .jsonl or .csv (as `triage batch`)."),
) -> None:
    """Write a finished job's labels, one row per ticket in input order; an error until the job is done."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        results = BacklogJobs(cli.services()).results(job_id)
        written = write_rows(
            target,
            ({"line": r.line, "id": r.triage.ticket_id, **r.triage.model_dump(mode="json")} for r in results),
            columns=BATCH_COLUMNS,
        )
        console.print(f"Wrote the labels of {written} tickets to {target}")


def _finished(status: JobStatus) -> bool:
    return status.status in (JobState.DONE, JobState.FAILED)


def _raise_if_failed(status: JobStatus) -> None:
    if status.status is JobState.FAILED:
        raise JobFailed(f"job {status.id} failed: {status.error}")
