"""`copilot kb impact DOC_OR_FILE`: what an SOP edit would change, before it is published."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from copilot.cli.context import console, reported_errors, state
from copilot.pipeline import warm_up
from copilot.services import saving_warm_vectors
from copilot.workbench.impact import ImpactReport, preview_impact

DIFF_LINES = 8  # of each changed draft's text diff, on the terminal (--json has them all)


def register(app: typer.Typer) -> None:
    """Add `impact` to `copilot kb`."""
    app.command("impact")(impact)


def impact(
    ctx: typer.Context,
    doc_or_file: str = typer.Argument(
        ..., help="A document id (its file in the SOP folder, edited and not yet ingested) or an edited copy's path."
    ),
    recent: int | None = typer.Option(None, "--recent", min=0, help="Decided drafts of real traffic to replay."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Replay the eval cases and recent drafts an edit touches against the published library and the edited one;
    exits 1 when a gated metric regresses."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services(triage_model=True, index=True)
        with saving_warm_vectors(services):  # the templates' readings, as a server warms up (kept for the next)
            warm_up(services)
        path = Path(doc_or_file)
        if not path.is_file():
            path = cli.settings.sop_dir / f"{doc_or_file}.md"
            if not path.is_file():
                raise FileNotFoundError(f"{doc_or_file}: neither a file nor a document of {cli.settings.sop_dir}")
        report = preview_impact(path.stem, path.read_text(encoding="utf-8"), services=services, recent=recent)
        if as_json:
            console.print_json(json.dumps(report.to_dict()))
        else:
            show(report)
    if not report.gate_passed:
        raise typer.Exit(1)


def show(report: ImpactReport) -> None:
    found = report.to_dict()
    replayed = ", ".join(f"{n} {source}" for source, n in found["replayed"].items())
    console.print(
        f"{report.doc_id} {report.published_version or '(new)'} -> {report.edited_version}: replayed {replayed} "
        f"tickets in {report.seconds:.1f} s; {len(report.changed)} drafts change",
        markup=False,
        highlight=False,
    )
    if report.changed:
        table = Table("ticket", "source", "lang", "SOP", "template", "action", "problems")
        for change in found["changed"]:
            table.add_row(
                change["ticket_id"],
                change["source"],
                change["language"],
                _moved(change["sop"]),
                _moved(change["template"]),
                _moved(change["action"]),
                " ".join(
                    [*(f"+{p}" for p in change["problems_added"]), *(f"-{p}" for p in change["problems_removed"])]
                ),
            )
        console.print(table)
        for change in found["changed"]:
            if change["text_diff"]:
                console.print(Text(f"{change['ticket_id']}:", style="bold"))
                for line in change["text_diff"][2 : 2 + DIFF_LINES]:
                    style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                    console.print(Text(f"  {line}", style=style), highlight=False)
    metrics = Table("suite", "metric", "published", "edited", "delta", "gate")
    for m in report.metrics:
        delta = "" if m.before is None or m.after is None else f"{m.after - m.before:+.4f}"
        metrics.add_row(
            m.suite, m.metric, _figure(m.before), _figure(m.after), delta, "REGRESSED" if m.regressed else "ok"
        )
    console.print(metrics)
    console.print(f"Gate: {'passed' if report.gate_passed else 'FAILED'}")


def _moved(pair: list[str | None]) -> str:
    before, after = pair
    return str(before) if before == after else f"{before} -> {after}"


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
