"""`copilot eval`: check the datasets QA relies on."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress
from rich.status import Status
from rich.table import Table

from copilot.cli.context import console, errors, reported_errors, state
from copilot.taxonomy import load_taxonomy
from copilot.triage.training import read_examples
from evals.benchmark import BANKING77, benchmark_classifier, triage_throughput
from evals.runner import SUITES, run, work_units, write_results
from evals.validate import validate_datasets
from knowledge_base.library import load_library

app = typer.Typer(help="Evaluate the copilot and check its datasets.", no_args_is_help=True)


@app.command("run")
def run_command(
    ctx: typer.Context,
    suite: list[str] = typer.Option(list(SUITES), "--suite", help=f"Suites to run: {', '.join(SUITES)}."),
    k: int = typer.Option(5, "--k", min=1, max=50, help="Passages retrieved per ticket for recall@k."),
    output: Path = typer.Option(Path("reports/eval.json"), "--output", help="Where to write the JSON results."),
) -> None:
    """Measure triage, retrieval and replies on the datasets (needs an ingested index)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services(triage_model=True, train_if_missing=True, index=True)
        chosen = tuple(suite)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Evaluating", total=work_units(services, chosen))
            results = run(services, suites=chosen, k=k, progress=lambda n: progress.advance(task, n))
        write_results(results, output)
        for name, metrics in results.items():
            table = Table("metric", "value", title=name, title_justify="left")
            for metric, value in metrics.items():
                table.add_row(metric, str(value))
            console.print(table)
        console.print(f"Results written to {output}")


@app.command("benchmark")
def benchmark_command(
    ctx: typer.Context,
    train: Path = typer.Option(BANKING77 / "train.csv", "--train", help="Labelled training file (.csv or .jsonl)."),
    test: Path = typer.Option(BANKING77 / "test.csv", "--test", help="Labelled test file (.csv or .jsonl)."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the text."),
    label_column: str = typer.Option("category", "--label-column", help="Column holding the label."),
) -> None:
    """Train the triage classifier on a public benchmark (Banking77 by default) and print its figures."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services()
        with Status(f"Training on {train.name}, measuring on {test.name}", console=console):
            figures = benchmark_classifier(
                train,
                test,
                embeddings=services.embeddings,
                embedder_version=services.embedder_version,
                text_column=text_column,
                label_column=label_column,
            )
        with Status("Timing the whole triage on the shipped test tickets", console=console):
            services = cli.services(triage_model=True, train_if_missing=True)
            texts = [e.text for e in read_examples(cli.settings.datasets_dir / "tickets" / "test.jsonl")]
            figures["full_triage_tickets_per_second"] = triage_throughput(services, texts)
        table = Table("metric", "value", title=f"benchmark: {train.parent.name}", title_justify="left")
        for metric, value in figures.items():
            table.add_row(metric, str(value))
        console.print(table)


@app.command("validate")
def validate_command(
    ctx: typer.Context,
    datasets: Path | None = typer.Option(None, "--datasets", help="Datasets folder; default COPILOT_DATASETS_DIR."),
) -> None:
    """Check every dataset against its schema, the taxonomy and the SOPs; print the counts."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        taxonomy = load_taxonomy(cli.settings.taxonomy_path)
        library = load_library(cli.settings.sop_dir, taxonomy)
        report = validate_datasets(datasets or cli.settings.datasets_dir, taxonomy=taxonomy, library=library)
        for name, counter in report.counts.items():
            table = Table(name, "count", title=f"by {name}", title_justify="left")
            for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
                table.add_row(key, str(n))
            table.add_row("[b]total[/b]", f"[b]{sum(counter.values())}[/b]")
            console.print(table)
        for problem in report.problems:
            errors.print(f"problem: {problem}", markup=False, highlight=False)
        if not report.ok:
            errors.print(f"error: {len(report.problems)} problems in the datasets", markup=False)
            raise typer.Exit(1)
        console.print("datasets OK")
