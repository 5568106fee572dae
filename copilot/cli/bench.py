"""`copilot bench`: the service's speed figures on this machine, measured on the real parts and printed.

With no subcommand, every figure of issue 18 (evals/speed/), beside a yardstick of the machine's speed measured
in the same run. Benchmarks print figures; they never pass or fail on them (tests do not time). Everything runs
in a temporary copy of the data dir: the user's index, records and models are never written.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.status import Status
from rich.table import Table

from copilot.cli.bench_backlog import backlog
from copilot.cli.bench_load import FLAT_SHARE, Endpoint, LoadFigures, load, measure_load
from copilot.cli.context import console, reported_errors, state
from copilot.settings import Settings
from evals.speed.cold_start import measure_cold_start
from evals.speed.figures import Figure, Target, figure
from evals.speed.machine import load_average
from evals.speed.run import BenchReport, Plan, run_bench
from evals.speed.workspace import bench_workspace

app = typer.Typer(
    help="Measure the service's speed on this machine; with no command, every figure beside the machine's "
    "yardstick (figures are printed, not judged)."
)
app.command("backlog")(backlog)  # tickets/s of a backlog job on N workers (copilot/cli/bench_backlog.py)
app.command("load")(load)  # the API under load on loopback (copilot/cli/bench_load.py)

LOAD_WORKERS, LOAD_USERS, LOAD_SECONDS = 2, 16, 60  # the load test issue 18 describes
LOAD_TARGETS = {Endpoint.triage.value: 200.0, Endpoint.suggest.value: 60.0}  # requests/s
PIPED_WIDTH = 120  # columns of the table in a log or a pipe, where nothing wraps it (80 would break every row)


@app.callback(invoke_without_command=True)
def bench(
    ctx: typer.Context,
    quick: bool = typer.Option(
        False, "--quick", help="Fewer runs and tickets, no load test: a minute or two (what CI runs)."
    ),
    json_path: Path | None = typer.Option(
        None, "--json", help="Also write every figure, target, the yardstick and the machine to this file."
    ),
    runs: int | None = typer.Option(
        None, "--runs", min=1, max=20, help="Runs of each figure, the median reported (default 5; --quick 3)."
    ),
) -> None:
    """With no subcommand: every speed figure, each the median of repeated runs, beside the yardstick."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        if ctx.invoked_subcommand is not None:
            if quick or json_path or runs:
                raise ValueError(
                    "--quick, --json and --runs belong to the whole bench (`copilot bench --quick`); "
                    f"give {ctx.invoked_subcommand}'s options after it"
                )
            return
        if json_path is not None and not json_path.parent.is_dir():
            raise FileNotFoundError(f"--json {json_path}: there is no folder {json_path.parent}")
        plan = Plan.of(quick=quick, runs=runs)
        with Status("Preparing a temporary data dir", console=console) as status:
            report = run_bench(
                cli.settings, plan, progress=status.update, load_test=_load_test if plan.load_test else None
            )
        print_report(report)
        if json_path is not None:
            json_path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
            console.print(f"Figures written to {json_path}")


def print_report(report: BenchReport) -> None:
    machine, yardstick = report.machine, report.yardstick
    table = Table(
        "figure",
        "median",
        "unit",
        "target",
        "runs",
        "vs yardstick",
        title=f"copilot bench{' --quick' if report.quick else ''}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for row in [yardstick, *report.figures]:
        table.add_row(
            row.title,
            _number(row.median),
            row.unit,
            str(row.target) if row.target else "",
            str(len(row.runs)),
            _versus(row),
        )
    (console if console.is_terminal else Console(width=PIPED_WIDTH)).print(table)
    console.print(
        f"yardstick: plain MiniLM in PyTorch, {yardstick.median:.0f} texts/s (median of {len(yardstick.runs)}); "
        "vs yardstick: a rate divided by it, a time as the texts plain MiniLM embeds meanwhile"
    )
    console.print(
        f"PyTorch in the serving worker: {_torch(report.serving_worker_loads_torch)}; {machine.cores} cores "
        f"({machine.cpu_model}), Python {machine.python}; load average {_number(machine.load_average_before)} before, "
        f"{_number(machine.load_average_after)} after"
    )
    for note in report.notes:
        console.print(f"note: {note}")


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def _torch(loaded: bool | None) -> str:
    return {True: "LOADED", False: "not loaded", None: "unknown"}[loaded]


def _versus(row: Figure) -> str:
    if row.vs_yardstick is None:
        return ""
    return f"{row.vs_yardstick:.2f}×" if row.kind == "rate" else f"{_number(row.vs_yardstick)} texts"


def _load_test(settings: Settings, yardstick: float) -> list[Figure]:
    """The load test's figures for the full bench (copilot/cli/bench_load.py: `copilot serve --workers 2` and 16
    locust clients for 60 s on each endpoint), on the bench's data dir."""
    runs = measure_load(settings, workers=LOAD_WORKERS, users=LOAD_USERS, seconds=LOAD_SECONDS)
    return [row for run in runs for row in _load_figures(run, yardstick)]


def _load_figures(run: LoadFigures, yardstick: float) -> list[Figure]:
    floor = " (locust CPU-bound: a floor)" if run.client_cpu_bound else ""
    name = f"load_{run.endpoint}"
    figures = [
        figure(
            f"{name}_requests_per_second",
            f"load: {run.endpoint}{floor}",
            "requests/s",
            "rate",
            [run.requests_per_s],
            target=Target(bound=">=", value=LOAD_TARGETS[run.endpoint]),
            yardstick=yardstick,
        ),
        figure(
            f"{name}_p99_ms",
            f"load: {run.endpoint}, p99",
            "ms",
            "time",
            [run.p99_ms],
            target=None,
            yardstick=yardstick,
        ),
        figure(
            f"{name}_failures",
            f"load: {run.endpoint}, failures",
            "requests",
            "size",
            [run.failures],
            target=Target(bound="<=", value=0),
            yardstick=yardstick,
        ),
    ]
    if run.rss_growth is not None:
        figures.append(
            figure(
                f"{name}_rss_growth_percent",
                f"load: {run.endpoint}, memory growth",
                "%",
                "size",
                [100 * run.rss_growth],
                target=Target(bound="<=", value=100 * FLAT_SHARE),  # the load test's own bound for flat
                yardstick=yardstick,
            )
        )
    return figures


@app.command("cold-start")
def cold_start(
    ctx: typer.Context,
    runs: int = typer.Option(3, "--runs", min=1, max=20, help="Starts to measure; the median is reported."),
) -> None:
    """Start `copilot serve --skip-ingest` on a free port, on a temporary copy of the data dir, time it to its
    first answered suggestion, and stop it."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        with bench_workspace(cli.settings) as workspace:
            with Status("Preparing a temporary data dir (not timed)", console=console):
                key = workspace.prepare_to_serve()
            for note in workspace.notes:
                console.print(f"note: {note}")
            starts = []
            for run in range(1, runs + 1):
                start = measure_cold_start(workspace.environment(), cwd=workspace.root, api_key=key)
                starts.append(start)
                console.print(
                    f"run {run}: ready in {start.ready_seconds:.2f} s (server CPU {_number(start.cpu_seconds)} s), "
                    f"first suggestion answered at {start.seconds:.2f} s, RSS {_number(start.rss_mib)} MiB, "
                    f"PyTorch {_torch(start.torch_loaded)}"
                )
        console.print(
            f"cold start: first suggestion at {statistics.median(s.seconds for s in starts):.2f} s, ready at "
            f"{statistics.median(s.ready_seconds for s in starts):.2f} s (medians of {runs}); "
            f"load average {_number(load_average())} on {os.cpu_count()} cores"
        )
