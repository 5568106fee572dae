"""`copilot kb docs|revise|diff|publish|discard|rollback|retire`: the SOP writers' workbench from the shell.

Writes are recorded as the operator named by `--actor` (as `copilot decide` records its decider)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from copilot.cli.context import console, reported_errors, state
from copilot.domain.accounts import Actor
from copilot.workbench import revisions as workbench

ACTOR_HELP = "Who does it (recorded in the audit log): the writer's name or email."


def register(app: typer.Typer) -> None:
    """Add the workbench's commands to `copilot kb`."""
    app.command("docs")(docs)
    app.command("revise")(revise)
    app.command("diff")(diff)
    app.command("publish")(publish)
    app.command("discard")(discard)
    app.command("rollback")(rollback)
    app.command("retire")(retire)


def docs(ctx: typer.Context) -> None:
    """List the SOP library: version, owner, status, effective date, last review and open draft revisions."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        # One line per document, fields in a fixed order: read by people, and by scripts (a table would wrap).
        for doc in workbench.documents(services=cli.services()):
            status = doc.status if doc.in_force or doc.status != "active" else "active-not-in-force"
            reviewed = doc.last_reviewed.isoformat() if doc.last_reviewed else "never"
            console.print(
                f"{doc.id}  {doc.version}  {doc.owner}  {status}  effective {doc.effective_date.isoformat()}  "
                f"reviewed {reviewed}  drafts {doc.open_drafts}  {doc.title}",
                markup=False,
                highlight=False,
            )


def revise(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., help="The document, e.g. SOP-CR-03 (a new id makes a new document)."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The document's whole Markdown, edited."),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
) -> None:
    """Save a file's text as a draft revision (checked first; the copilot does not use it until it is published)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        text = file.read_text(encoding="utf-8")
        try:
            revision = workbench.save_revision(doc_id, text, services=cli.services(), by=Actor.operator(actor))
        except workbench.RevisionInvalid as exc:
            for problem in exc.problems:  # every problem, then the one-line error
                console.print(Text(f"  {problem}"), highlight=False)
            raise
        console.print(
            f"Saved draft revision {revision.id} of {doc_id}; see it with `copilot kb diff {revision.id}`",
            markup=False,
            highlight=False,
        )


def diff(ctx: typer.Context, revision_id: int = typer.Argument(..., help="The revision's id.")) -> None:
    """Show a revision against the published document, as a unified diff."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services()
        found = workbench.diff(services.sop_revisions.get(revision_id), services=services)
        if not found.unified:
            console.print("No change from the published text.")
        for line in found.unified.splitlines():
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else None
            console.print(Text(line, style=style or ""), highlight=False)


def publish(
    ctx: typer.Context,
    revision_id: int = typer.Argument(..., help="The draft revision's id."),
    override: str | None = typer.Option(
        None, "--override", help="Why it is published without a passing impact preview (kept in the audit log)."
    ),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
) -> None:
    """Publish a draft revision: its version must be above the published one; the file is written and ingested."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        done = workbench.publish(
            revision_id, services=cli.services(), by=Actor.operator(actor), override_reason=override
        )
        _say_published(done)


def discard(
    ctx: typer.Context,
    revision_id: int = typer.Argument(..., help="The draft revision's id."),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
) -> None:
    """Discard a draft revision (it stays on record, marked discarded)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        revision = workbench.discard(revision_id, services=cli.services(), by=Actor.operator(actor))
        console.print(f"Discarded revision {revision.id} of {revision.doc_id}.", markup=False, highlight=False)


def rollback(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., help="The document, e.g. SOP-CR-03."),
    version: str = typer.Argument(..., help="The kept version to publish again."),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
) -> None:
    """Publish an earlier kept version again, as the next patch version above the one in force."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        _say_published(workbench.rollback(doc_id, version, services=cli.services(), by=Actor.operator(actor)))


def retire(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., help="The document, e.g. SOP-CR-03."),
    yes: bool = typer.Option(False, "--yes", help="Retire it even though other documents refer to it."),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
) -> None:
    """Retire a document (status retired, under a new version): the documents that refer to it are listed first."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services()
        pointing = workbench.referrers(doc_id, services=services)
        for referrer in pointing:
            console.print(f"  referred to by {referrer}", markup=False, highlight=False)
        if pointing and not yes:
            raise workbench.RetireNeedsConfirmation(doc_id, pointing)
        done = workbench.retire(doc_id, services=services, by=Actor.operator(actor), confirm=yes)
        _say_published(done.published)


def _say_published(done: workbench.Published) -> None:
    was = f" (was {done.previous_version})" if done.previous_version else " (new)"
    console.print(
        f"Published {done.revision.doc_id} {done.version}{was}: {done.report.summary()}",
        markup=False,
        highlight=False,
    )
