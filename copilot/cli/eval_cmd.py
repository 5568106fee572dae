"""`copilot eval`: measure the copilot, gate changes on it, and check the datasets QA relies on."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import Progress
from rich.status import Status
from rich.table import Table

from copilot.cli.context import console, errors, reported_errors, state
from copilot.domain.taxonomy import load_taxonomy
from copilot.services import Services, build_chat_model, load_triage_model
from copilot.settings import Settings
from copilot.triage.training import read_examples
from evals.cases.intake import add_decided
from evals.cases.validate import validate_datasets
from evals.run.gate import compare, load_baseline, load_thresholds, write_baseline
from evals.run.runner import BASELINE, OPTIONAL_SUITES, SUITES, THRESHOLDS, Datasets, run, work_units
from evals.speed.machine import machine_yardstick
from evals.speed.triage import triage_throughput
from evals.suites.benchmark import BANKING77, PUBLIC, benchmark_suite
from evals.suites.library_retrieval import SUITE as LIBRARY_RETRIEVAL
from knowledge_base.library import load_library

if TYPE_CHECKING:
    from evals.suites.judge import Judge

app = typer.Typer(help="Evaluate the copilot and check its datasets.", no_args_is_help=True)


@app.command("run")
def run_command(
    ctx: typer.Context,
    suite: list[str] = typer.Option(
        list(SUITES),
        "--suite",
        help=f"Suites to run: {', '.join(SUITES)}; {', '.join(OPTIONAL_SUITES)} only when named (with --queries).",
    ),
    tickets: Path | None = typer.Option(None, "--tickets", help="Labelled tickets (JSONL) for triage."),
    golden: Path | None = typer.Option(None, "--golden", help="Golden replies (JSONL) for retrieval and reply."),
    safety: Path | None = typer.Option(None, "--safety", help="Safety cases (JSONL) for safety."),
    queries: Path | None = typer.Option(
        None, "--queries", help=f"Queries written for the SOP library in use (JSONL) for {LIBRARY_RETRIEVAL}."
    ),
    k: int = typer.Option(5, "--k", min=1, max=50, help="Documents retrieved per ticket for recall@k."),
    output_dir: Path = typer.Option(Path("reports/eval"), "--output-dir", help="Where the JSON, Markdown and HTML go."),
    baseline: Path | None = typer.Option(None, "--baseline", help=f"Compare with this baseline (e.g. {BASELINE})."),
    thresholds: Path = typer.Option(THRESHOLDS, "--thresholds", help="Thresholds and tolerances (YAML)."),
    gate: bool = typer.Option(
        False, "--gate", help=f"Exit 1 when a threshold fails or a metric regresses (default baseline {BASELINE})."
    ),
    write_baseline_to: Path | None = typer.Option(
        None, "--write-baseline", help="Save this run's metrics as a baseline."
    ),
    benchmark: list[str] = typer.Option(
        [], "--benchmark", help=f"Also train and measure the classifier on a public dataset: {', '.join(PUBLIC)}."
    ),
) -> None:
    """Measure triage, retrieval, replies, safety and latency; write a JSON, Markdown and HTML report."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        chosen = tuple(dict.fromkeys(suite))
        shipped = Datasets.shipped(cli.settings.datasets_dir)
        files = Datasets(
            tickets=tickets or shipped.tickets,
            golden=golden or shipped.golden,
            safety=safety or shipped.safety,
            queries=queries,
        )
        limits = load_thresholds(thresholds) if gate else {}
        against = load_baseline(baseline or BASELINE) if (baseline or gate) else None
        needs_triage_model = bool(set(chosen) & set(SUITES))  # every default suite triages the shipped way
        services = cli.services(triage_model=needs_triage_model, train_if_missing=True, index=True)
        if not needs_triage_model:
            _triage_model_if_any(services)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Evaluating", total=work_units(chosen, files))
            result = run(
                services,
                suites=chosen,
                datasets=files,
                k=k,
                benchmarks=tuple(benchmark),
                judge=_judge(cli.settings) if cli.settings.judge_model else None,
                progress=lambda n: progress.advance(task, n),
            )
        if against is not None:
            result = result.model_copy(update={"checks": compare(result, baseline=against, thresholds=limits)})
        from evals.report import render_markdown, write_report  # plotting: loaded by this command only

        written = write_report(result, output_dir)
        typer.echo(render_markdown(result))
        console.print(f"Report: {written['html']} (summary {written['markdown']}, data {written['json']})")
        if write_baseline_to:
            write_baseline(result, write_baseline_to)
            console.print(f"Baseline written to {write_baseline_to}")
        if gate and result.failed_checks:
            for check in result.failed_checks:
                errors.print(f"gate: {check.suite}.{check.metric}: {check.why}", markup=False, highlight=False)
            raise typer.Exit(1)


def _judge(settings: Settings) -> Judge:
    """The judge model. Imported here: its client library is the chat model's, and every other command (`copilot
    serve` among them, whose start-up a user waits for) would load it for nothing."""
    from evals.suites.judge import Judge

    return Judge(build_chat_model(settings, model=settings.judge_model))


def _triage_model_if_any(services: Services) -> None:
    """Load the data folder's triage model if it has one. An organisation measuring retrieval over its own library
    usually has none (no labelled tickets yet), and none is trained here from tickets labelled for the shipped
    taxonomy; a model made for another taxonomy is refused with the loader's error."""
    with suppress(FileNotFoundError):
        load_triage_model(services, train_if_missing=False)


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
        # First, while no ONNX Runtime thread is about: the yardstick for how fast this machine is today.
        with Status("Timing plain MiniLM in PyTorch, the yardstick for this machine's speed", console=console):
            test_texts = [e.text for e in read_examples(test, text_column=text_column, label_column=label_column)]
            yardstick = machine_yardstick(test_texts)
        services = cli.services()
        with Status(f"Training on {train.name}, measuring on {test.name}", console=console):
            figures = benchmark_suite(
                train.parent.name,
                train,
                test,
                embeddings=services.embeddings,
                embedder_version=services.embedder_version,
                text_column=text_column,
                label_column=label_column,
            ).metrics
        with Status("Timing the whole triage on the shipped test tickets", console=console):
            services = cli.services(triage_model=True, train_if_missing=True)
            texts = [e.text for e in read_examples(cli.settings.datasets_dir / "tickets" / "test.jsonl")]
            figures["full_triage_tickets_per_second"] = triage_throughput(services, texts)
        figures["yardstick_minilm_pytorch_texts_per_second"] = yardstick
        table = Table("metric", "value", title=f"benchmark: {train.parent.name}", title_justify="left")
        for metric, value in figures.items():
            table.add_row(metric, str(value))
        console.print(table)


@app.command("add-decided")
def add_decided_command(
    ctx: typer.Context,
    export: Path = typer.Argument(..., help="An export of `copilot export-decisions` (JSONL)."),
    golden: Path | None = typer.Option(None, "--golden", help="Golden set to extend; default the shipped one."),
) -> None:
    """Add approved and edited drafts to the golden set as new cases (rejected ones are left for QA)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        library = load_library(cli.settings.sop_dir, load_taxonomy(cli.settings.taxonomy_path))
        target = golden or Datasets.shipped(cli.settings.datasets_dir).golden
        report = add_decided(export, target, library=library)
        typer.echo(f"{target}: {report.summary()}")


@app.command("validate")
def validate_command(
    ctx: typer.Context,
    datasets: Path | None = typer.Option(None, "--datasets", help="Datasets folder; default COPILOT_DATASETS_DIR."),
    training: Path | None = typer.Option(None, "--training", help="Training tickets; default COPILOT_TRAINING_DIR."),
) -> None:
    """Check every dataset against its schema, the taxonomy and the SOPs; print the counts."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        taxonomy = load_taxonomy(cli.settings.taxonomy_path)
        library = load_library(cli.settings.sop_dir, taxonomy)
        report = validate_datasets(
            datasets or cli.settings.datasets_dir,
            training_dir=training or cli.settings.training_dir,
            taxonomy=taxonomy,
            library=library,
        )
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
