"""One bench run: the yardstick, then every figure, each over repeated runs, in a temporary data dir.

The order matters on a small machine: the yardstick first, before any ONNX Runtime session exists in the
process; the in-process figures next, on one warm set of services; then the real processes (cold start, and
the load test in a full run), while this process sits idle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

from pydantic import BaseModel

from copilot.settings import Settings
from copilot.triage.batch import CHUNK
from copilot.triage.training import TRAINING_TICKETS, read_examples
from evals.speed.cold_start import ColdStart, measure_cold_start
from evals.speed.figures import Figure, Target, figure, percentile_ms
from evals.speed.ingest import IngestTimes, time_ingest, time_ingest_in, warm_embedder
from evals.speed.machine import Machine, describe_machine, load_average, yardstick_runs
from evals.speed.suggest import suggestion_seconds, warm_for_suggestions
from evals.speed.triage import one_ticket_seconds, triage_throughput
from evals.speed.workspace import Workspace, bench_workspace
from evals.suites.benchmark import BANKING77

WARM_UP_TICKETS = 5  # suggested (or triaged) before the timed ones, never timed themselves
YARDSTICK = "yardstick_minilm_pytorch_texts_per_second"
LoadTest = Callable[[Settings, float], list[Figure]]  # the workspace's settings and the yardstick: its figures


@dataclass(frozen=True)
class Plan:
    quick: bool
    runs: int  # of every figure measured in this process; the median is reported
    yardstick_texts: int  # Banking77 test texts embedded per yardstick run
    suggestions: int  # timed per run, each run on tickets of its own
    triages: int  # one-ticket triages timed per run, each run on tickets of its own
    batch_tickets: int  # at least this many tickets per batch-triage run ...
    batch_seconds: float  # ... and at least this long
    ingests: int  # of the whole library, each into an empty index
    cold_starts: int
    load_test: bool

    @classmethod
    def of(cls, *, quick: bool, runs: int | None = None) -> Plan:
        """The full plan, or the quick one (smaller samples, no load test) that CI runs."""
        if quick:
            return cls(
                quick=True,
                runs=runs or 3,
                yardstick_texts=320,
                suggestions=30,
                triages=60,
                batch_tickets=256,
                batch_seconds=1.0,
                ingests=runs or 2,
                cold_starts=runs or 2,
                load_test=False,
            )
        return cls(
            quick=False,
            runs=runs or 5,
            yardstick_texts=960,
            suggestions=100,
            triages=100,
            batch_tickets=2048,
            batch_seconds=5.0,
            ingests=runs or 5,
            cold_starts=runs or 5,
            load_test=True,
        )


class BenchReport(BaseModel):
    measured_at: dt.datetime
    quick: bool
    machine: Machine
    yardstick: Figure
    figures: list[Figure]
    serving_worker_loads_torch: bool | None  # must be False once the ONNX export exists; None: cannot tell
    notes: list[str]  # what the bench had to make or skip, and anything that qualifies a figure


@dataclass(frozen=True)
class Texts:
    """The product's own tickets, as each figure reads them."""

    suggest: list[str]  # golden replies' tickets and the test split
    one_by_one: list[str]  # the dev split: tickets no other figure sends, so no cache has seen them
    batch: list[str]  # the training tickets and the test split
    yardstick: list[str]  # Banking77's test texts, the ones the yardstick has always been measured on

    @classmethod
    def of(cls, settings: Settings) -> Texts:
        def read(*paths: str) -> list[str]:
            return [e.text for path in paths for e in read_examples(settings.datasets_dir / path)]

        test = read("tickets/test.jsonl")
        training = [e.text for e in read_examples(settings.training_dir / TRAINING_TICKETS)]
        yardstick = [e.text for e in read_examples(BANKING77 / "test.csv", label_column="category")]
        return cls(
            suggest=read("golden_replies.jsonl") + test,
            one_by_one=read("tickets/dev.jsonl"),
            batch=training + test,
            yardstick=yardstick,
        )


def run_bench(
    configured: Settings,
    plan: Plan,
    *,
    progress: Callable[[str], None] = lambda _: None,
    load_test: LoadTest | None = None,
) -> BenchReport:
    """Measure every figure of `plan` on a temporary copy of the configured data dir and return them."""
    machine = describe_machine()
    texts = Texts.of(configured)
    with bench_workspace(configured) as workspace:
        progress("Timing plain MiniLM in PyTorch: the yardstick of this machine's speed")
        runs = yardstick_runs(texts.yardstick[: plan.yardstick_texts], runs=plan.runs)
        yardstick = figure(
            YARDSTICK, "yardstick: MiniLM in PyTorch", "texts/s", "rate", runs, target=None, yardstick=median(runs)
        )
        speed = yardstick.median
        in_process, api_key = _in_process_figures(workspace, plan, texts, speed, progress)
        progress(f"Starting `copilot serve` {plan.cold_starts} times")
        starts = [
            measure_cold_start(workspace.environment(), cwd=workspace.root, api_key=api_key)
            for _ in range(plan.cold_starts)
        ]
        figures = [*in_process, *_cold_start_figures(starts, speed)]
        if plan.load_test and load_test is not None:
            progress("Loading the API on loopback (the load test)")
            figures += load_test(workspace.settings, speed)
        notes = list(workspace.notes)
    if plan.load_test and load_test is None:
        notes.append("the load test was not run (no load test was given to this run)")
    loads = [start.torch_loaded for start in starts if start.torch_loaded is not None]
    return BenchReport(
        measured_at=dt.datetime.now(dt.UTC),
        quick=plan.quick,
        machine=machine.model_copy(update={"load_average_after": load_average()}),
        yardstick=yardstick,
        figures=figures,
        serving_worker_loads_torch=any(loads) if loads else None,
        notes=notes,
    )


def _in_process_figures(
    workspace: Workspace, plan: Plan, texts: Texts, speed: float, progress: Callable[[str], None]
) -> tuple[list[Figure], str]:
    """Ingest, suggest and triage figures on one warm set of services; returns them and an API key for the
    processes started afterwards on the same data dir."""
    progress("Loading the embedder and the triage model (not timed)")
    with workspace.serving() as (services, api_key):
        warm_embedder(services.embeddings, texts.batch[:64])
        progress(f"Timing {plan.ingests} ingests of {workspace.settings.sop_dir} into an empty index")
        # The first into the workspace's own index, which the suggestions and the served processes then read.
        ingests = [time_ingest(services)] + [
            time_ingest_in(workspace.root / f"ingest-{n}", workspace.settings, embeddings=services.embeddings)
            for n in range(1, plan.ingests)
        ]
        progress(f"Timing suggestions: {plan.runs} runs of {plan.suggestions} tickets")
        warm_for_suggestions(services, texts.suggest[:WARM_UP_TICKETS])
        suggested = [
            suggestion_seconds(services, batch)
            for batch in _slices(texts.suggest[WARM_UP_TICKETS:], plan.runs, plan.suggestions)
        ]
        progress(f"Timing one-ticket triage: {plan.runs} runs of {plan.triages} tickets")
        one_ticket_seconds(services, texts.one_by_one[:WARM_UP_TICKETS])
        triaged = [
            one_ticket_seconds(services, batch)
            for batch in _slices(texts.one_by_one[WARM_UP_TICKETS:], plan.runs, plan.triages)
        ]
        progress(f"Timing batch triage: {plan.runs} runs of at least {plan.batch_tickets} tickets")
        batches = [
            triage_throughput(services, texts.batch, at_least=plan.batch_tickets, at_least_seconds=plan.batch_seconds)
            for _ in range(plan.runs)
        ]
    return [
        *_latency_figures("suggest", "suggest, one ticket", suggested, speed),
        *_latency_figures("triage", "triage, one ticket", triaged, speed),
        figure(
            "batch_triage_tickets_per_second",
            f"triage in batches of {CHUNK}",
            "tickets/s",
            "rate",
            batches,
            target=Target(bound=">=", value=1000, goal=2000),
            yardstick=speed,
        ),
        *_ingest_figures(ingests, speed),
    ], api_key


TARGET_MS = {"suggest_p50": 25.0, "suggest_p95": 50.0, "triage_p95": 15.0}  # issue 18 sets no p50 for triage


def _latency_figures(name: str, title: str, runs: list[list[float]], speed: float) -> list[Figure]:
    return [
        figure(
            f"{name}_p{q}_ms",
            f"{title}, p{q}",
            "ms",
            "time",
            [percentile_ms(seconds, q) for seconds in runs],
            target=Target(bound="<=", value=TARGET_MS[f"{name}_p{q}"]) if f"{name}_p{q}" in TARGET_MS else None,
            yardstick=speed,
        )
        for q in (50, 95)
    ]


def _ingest_figures(runs: list[IngestTimes], speed: float) -> list[Figure]:
    return [
        figure(
            "ingest_chunks_per_second",
            f"ingest, empty index ({runs[0].chunks} chunks)",
            "chunks/s",
            "rate",
            [run.chunks_per_second for run in runs],
            target=Target(bound=">=", value=500),
            yardstick=speed,
        ),
        figure(
            "reingest_unchanged_s",
            "re-ingest, nothing changed",
            "s",
            "time",
            [run.again_seconds for run in runs],
            target=Target(bound="<", value=1),
            yardstick=speed,
        ),
    ]


def _cold_start_figures(starts: list[ColdStart], speed: float) -> list[Figure]:
    figures = [
        figure(
            "cold_start_s",
            "cold start to first suggestion",
            "s",
            "time",
            [start.seconds for start in starts],
            target=Target(bound="<=", value=5),
            yardstick=speed,
        )
    ]
    memory = [start.rss_mib for start in starts if start.rss_mib is not None]
    if memory:  # /proc cannot be read on every system
        figures.append(
            figure(
                "serving_rss_mib",
                "serving worker memory (RSS)",
                "MiB",
                "size",
                memory,
                target=None,
                yardstick=speed,
            )
        )
    return figures


def _slices(texts: list[str], runs: int, size: int) -> list[list[str]]:
    """`runs` consecutive slices of `texts`, none shared (a text seen before may be answered from a cache), of
    `size` texts or as many as there are to go round."""
    size = min(size, len(texts) // runs)
    if size < 1:
        raise ValueError(f"{len(texts)} tickets cannot give {runs} runs a ticket of their own; use fewer --runs")
    return [texts[n * size : (n + 1) * size] for n in range(runs)]
