"""`copilot kb`: the knowledge base (ingest the SOP folder, search it)."""

from __future__ import annotations

import typer
from rich.progress import Progress
from rich.table import Table

from copilot.cli.context import console, errors, reported_errors, state
from copilot.pipeline import ingest, search_knowledge_base

app = typer.Typer(help="Ingest and search the SOP knowledge base.", no_args_is_help=True)


@app.command("ingest")
def ingest_command(ctx: typer.Context) -> None:
    """Validate every SOP in the SOP folder and make the index match it (unchanged files are skipped)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services()
        with Progress(console=console, transient=True) as progress:
            # No total: the library in the folder is read by the ingest itself, and the index may be half-written
            # (an ingest killed midway), which is what this run repairs.
            task = progress.add_task("Ingesting SOPs", total=None)
            report = ingest(services, progress=lambda doc_id, n: progress.advance(task))
        console.print(f"Ingested {cli.settings.sop_dir}: {report.summary()}")
        for warning in report.warnings:
            errors.print(f"warning: {warning.message}", markup=False, highlight=False)


@app.command("search")
def search_command(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for, in plain words."),
    k: int = typer.Option(5, "--k", min=1, max=50, help="How many passages to show."),
    lob: str | None = typer.Option(None, "--lob", help="Only this line of business (and cross-LOB policies)."),
) -> None:
    """Show the SOP passages closest to a query."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        passages = search_knowledge_base(query, services=cli.services(index=True), k=k, lob=lob)
        table = Table("score", "document", "section", "text")
        for p in passages:
            table.add_row(f"{p.score:.3f}", f"{p.doc_id} v{p.doc_version}", p.section, p.text[:160].replace("\n", " "))
        console.print(table)
