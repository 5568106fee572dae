"""`copilot kb coverage | gaps | conflicts | suggestions`: what the SOP library is missing, for its writers."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from copilot.cli.context import console, errors, reported_errors, state
from copilot.domain.accounts import Actor
from copilot.domain.taxonomy import load_taxonomy
from copilot.workbench.coverage import Usage, coverage, draft_eval_cases, missing_eval_drafts
from copilot.workbench.gaps import gaps
from copilot.workbench.suggestions import accept, dismiss, suggestions
from knowledge_base.conflicts import conflicts_in_folder, errors_of

EVAL_REPORT = Path("reports/eval/eval.json")  # where `copilot eval run` writes by default
JSON_HELP = "Print JSON instead of tables."


def register(app: typer.Typer) -> None:
    app.command("coverage")(coverage_command)
    app.command("gaps")(gaps_command)
    app.command("conflicts")(conflicts_command)
    app.command("suggestions")(suggestions_command)


def coverage_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    draft: bool = typer.Option(
        True,
        "--draft/--no-draft",
        help="Draft the eval cases the records keep no draft for, as `copilot eval run` does (needs the model).",
    ),
) -> None:
    """Per document, section and template: eval cases that exercise it, real drafts that used it, and how those
    were decided. Templates and escalation rules no eval case exercises come first."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services()
        missing = missing_eval_drafts(services) if draft else []
        if missing:
            services = cli.services(triage_model=True, train_if_missing=True, index=True)
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("Drafting eval cases", total=len(missing))
                draft_eval_cases(services, missing, lambda n: progress.advance(task, n))
        report = coverage(services)
        if as_json:
            typer.echo(report.model_dump_json(indent=2))
            return
        console.print(report.summary(), markup=False, highlight=False)
        untested = Table("document", "template", "real drafts", title="Templates no eval case exercises")
        for t in report.untested_templates:
            untested.add_row(t.doc_id, escape(f"{t.template_id} [{t.locale}]"), str(t.usage.drafts))
        console.print(untested)
        rules = Table("rule", "eval cases", title="Escalation rules")
        for rule in sorted(report.rules, key=lambda r: (r.eval_cases > 0, r.rule)):
            rules.add_row(escape(rule.rule), str(rule.eval_cases) if rule.eval_cases else "[red]0[/red]")
        console.print(rules)
        docs = Table(
            "document", "eval cases", "drafts", "approved", "edited", "rejected", "reject reasons", title="Documents"
        )
        for doc in report.documents:
            u = doc.usage
            docs.add_row(doc.doc_id, str(u.eval_cases), str(u.drafts), *_shares(u), escape(_reasons(u)))
        console.print(docs)


def _shares(usage: Usage) -> list[str]:
    return [
        f"{n} ({share:.0%})" if (share := usage.share(n)) is not None else str(n)
        for n in (usage.approved, usage.edited, usage.rejected)
    ]


def _reasons(usage: Usage) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(usage.reject_reasons.items(), key=lambda kv: -kv[1]))


def gaps_command(
    ctx: typer.Context,
    eval_report: Path | None = typer.Option(
        None, "--eval-report", help=f"An eval run's eval.json to take retrieval misses from (default {EVAL_REPORT})."
    ),
    top: int = typer.Option(10, "--top", min=1, help="How many clusters to show."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Tickets the copilot could not answer well, clustered by topic, and languages SOPs have no template in."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services(index=True)
        report_file = eval_report or (EVAL_REPORT if EVAL_REPORT.is_file() else None)
        report = gaps(services, eval_report=report_file)
        if as_json:
            typer.echo(report.model_dump_json(indent=2))
            return
        source = f", with the retrieval misses of {report_file}" if report_file else ""
        console.print(
            f"{report.tickets} gap tickets ({_counted(report.sources)}){source}; {len(report.clusters)} topics",
            markup=False,
            highlight=False,
        )
        table = Table("#", "size", "languages", "why", "nearest SOP", "representative tickets (masked)")
        for n, c in enumerate(report.clusters[:top], 1):
            examples = escape("\n".join(f"- {t.text}" for t in c.representatives))
            near = f"{c.nearest_sop} ({c.nearest_score:.2f})" if c.nearest_sop else "none"
            table.add_row(
                str(n), str(c.size), escape(_counted(c.languages)), escape(_counted(c.reasons)), near, examples
            )
        console.print(table)
        locales = Table("document", "language", "tickets", title="Tickets in a language the SOP has no template in")
        for m in report.missing_locales:
            locales.add_row(m.doc_id, m.language, str(m.tickets))
        console.print(locales)


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {n}" for key, n in counts.items())


def conflicts_command(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Documents of the SOP folder that conflict: errors stop an ingest, warnings do not. Exits 1 on an error."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        found = conflicts_in_folder(cli.settings.sop_dir, load_taxonomy(cli.settings.taxonomy_path))
        if as_json:
            typer.echo("[" + ",".join(c.model_dump_json() for c in found) + "]")
        else:
            table = Table("severity", "kind", "files", "conflict", title=f"Conflicts in {cli.settings.sop_dir}")
            for c in found:
                table.add_row(c.severity, c.kind, escape(", ".join(c.files)), escape(c.message))
            console.print(table if found else f"No conflicts in {cli.settings.sop_dir}", markup=False)
        if errors_of(found):
            raise typer.Exit(1)


def suggestions_command(
    ctx: typer.Context,
    accept_id: str | None = typer.Option(None, "--accept", help="Save this suggestion as a draft revision."),
    dismiss_id: str | None = typer.Option(None, "--dismiss", help="Dismiss this suggestion for good."),
    actor: str | None = typer.Option(None, "--actor", help="Who accepts or dismisses (recorded in the audit log)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Template edits proposed from the specialists' edits to drafts; accept (a draft revision) or dismiss one."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services()
        if accept_id or dismiss_id:
            if accept_id and dismiss_id:
                raise ValueError("give --accept or --dismiss, not both")
            if not actor:
                raise ValueError("--actor is required to accept or dismiss: who decides is recorded")
            by = Actor.operator(actor)
            if accept_id:
                accepted = accept(accept_id, services=services, by=by)
                console.print(
                    f"Accepted {accept_id}: draft revision {accepted.revision_id} of {accepted.suggestion.doc_id}"
                )
            elif dismiss_id:
                dismiss(dismiss_id, services=services, by=by)
                console.print(f"Dismissed {dismiss_id}")
            return
        found = suggestions(services)
        if as_json:
            typer.echo("[" + ",".join(s.model_dump_json() for s in found) + "]")
            return
        table = Table("id", "template", "change", "edits", "evidence (drafts)", title="Suggested template edits")
        for s in found:
            evidence = ", ".join(e.draft_id for e in s.evidence[:5]) + (" ..." if len(s.evidence) > 5 else "")
            table.add_row(
                s.id,
                escape(f"{s.doc_id} {s.template_id} [{s.locale}]"),
                escape(f"{s.operation}: {s.sentence}"),
                f"{s.edits_with}/{s.edits_total} ({s.share:.0%})",
                evidence,
            )
        console.print(table if found else "No suggested template edits.", markup=False)
        if not found:
            errors.print(
                f"(a template needs {services.settings.suggestion_min_edits} edited drafts, and a sentence "
                f"{services.settings.suggestion_min_share:.0%} of them)",
                markup=False,
            )
