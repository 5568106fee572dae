"""The eval runner: measures the real pipeline on the datasets, suite by suite, into an EvalRun.

Suites: triage (the labelled test tickets), retrieval and reply (the golden replies), safety (the
safety set) and latency (stage times of the suggestions made for the golden and safety tickets).
Any dataset in the documented format can replace the shipped one. One suite runs only when asked for:
library_retrieval, over a query set written for the SOP library in use (an organisation's own, such as
examples/abcd), which ships with that library rather than with the copilot.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from copilot.domain import Draft, Ticket
from copilot.pipeline import StageTimes, warm_up
from copilot.services import Services
from evals.cases.schemas import GoldenCase, LabelledTicket, LibraryQuery, SafetyCase
from evals.cases.validate import read_cases
from evals.results import EvalRun, SuiteResult
from evals.suites.benchmark import PUBLIC, benchmark_suite
from evals.suites.latency import latency_suite
from evals.suites.library_retrieval import SUITE as LIBRARY_RETRIEVAL
from evals.suites.library_retrieval import library_retrieval_suite
from evals.suites.reply import draft_all, reply_suite
from evals.suites.retrieval import retrieval_suite
from evals.suites.safety import safety_suite
from evals.suites.triage import triage_suite

if TYPE_CHECKING:  # the judge needs the chat model's client, which a run without a judge never imports
    from evals.suites.judge import Judge

Progress = Callable[[int], None]
SUITES = ("triage", "retrieval", "reply", "safety", "latency")  # what a run measures unless told otherwise
OPTIONAL_SUITES = (LIBRARY_RETRIEVAL,)  # run only when named, each with its own dataset
EVALS = Path(__file__).resolve().parents[1]
BASELINE = EVALS / "baseline.json"
THRESHOLDS = EVALS / "thresholds.yaml"


@dataclass(frozen=True)
class Datasets:
    tickets: Path
    golden: Path
    safety: Path
    queries: Path | None = None  # a query set for the library in use (library_retrieval); none is shipped

    @classmethod
    def shipped(cls, folder: Path) -> Datasets:
        return cls(
            tickets=folder / "tickets" / "test.jsonl",
            golden=folder / "golden_replies.jsonl",
            safety=folder / "safety.jsonl",
        )


def run(
    services: Services,
    *,
    suites: tuple[str, ...] = SUITES,
    datasets: Datasets | None = None,
    k: int = 5,
    benchmarks: tuple[str, ...] = (),
    judge: Judge | None = None,
    progress: Progress | None = None,
) -> EvalRun:
    """Run the chosen suites, then train and measure the classifier on each public benchmark asked for.

    Raises ValueError for an unknown suite or benchmark, or a bad dataset, before any work.
    """
    unknown = sorted(set(suites) - {*SUITES, *OPTIONAL_SUITES})
    if unknown:
        raise ValueError(f"unknown suite {unknown[0]!r}; valid: {', '.join((*SUITES, *OPTIONAL_SUITES))}")
    strange = sorted(set(benchmarks) - set(PUBLIC))
    if strange:
        raise ValueError(f"unknown benchmark {strange[0]!r}; valid: {', '.join(PUBLIC)}")
    files = datasets or Datasets.shipped(services.settings.datasets_dir)
    tickets = read_cases(files.tickets, LabelledTicket) if "triage" in suites else []
    golden = read_cases(files.golden, GoldenCase) if {"retrieval", "reply", "latency"} & set(suites) else []
    safety = read_cases(files.safety, SafetyCase) if "safety" in suites else []
    queries = _library_queries(files) if LIBRARY_RETRIEVAL in suites else []
    started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
    results: dict[str, SuiteResult] = {}
    times: list[StageTimes] = []
    # Drafts first: the retrieval suites embed the golden tickets, and a ticket embedded before its draft would be
    # triaged and retrieved from the embedder's cache, so its stage times would not be those of a new ticket.
    golden_drafts: list[Draft] = []
    safety_drafts: list[Draft] = []
    if {"reply", "safety", "latency"} & set(suites):
        warm_up(services)  # as a server does at start: stage times are of a service that is up
    if golden and ({"reply", "latency"} & set(suites)):
        made = draft_all(services, [Ticket(id=c.id, text=c.text) for c in golden], progress)
        times += [t for _, t in made]
        golden_drafts = [d for d, _ in made]
    if "safety" in suites:
        made = draft_all(services, [Ticket(id=c.id, text=c.text) for c in safety], progress)
        times += [t for _, t in made]
        safety_drafts = [d for d, _ in made]
    if "triage" in suites:
        results["triage"] = triage_suite(services, tickets, dataset=str(files.tickets))
        _advance(progress, len(tickets))
    if "retrieval" in suites:
        results["retrieval"] = retrieval_suite(services, golden, dataset=str(files.golden), k=k)
        _advance(progress, len(golden))
    if LIBRARY_RETRIEVAL in suites:
        results[LIBRARY_RETRIEVAL] = library_retrieval_suite(services, queries, dataset=str(files.queries), k=k)
        _advance(progress, len(queries))
    if golden and "reply" in suites:
        results["reply"] = reply_suite(services, golden, golden_drafts, dataset=str(files.golden), judge=judge)
    if "safety" in suites:
        results["safety"] = safety_suite(services, safety, safety_drafts, dataset=str(files.safety))
    if "latency" in suites:
        used = [str(files.golden)] * bool(golden) + [str(files.safety)] * bool(safety)
        results["latency"] = latency_suite(times, dataset=" + ".join(used))
    for name in benchmarks:
        public = PUBLIC[name]
        results[f"benchmark_{name}"] = benchmark_suite(
            name,
            public.folder / "train.csv",
            public.folder / "test.csv",
            embeddings=services.embeddings,
            embedder_version=services.embedder_version,
            text_column=public.text_column,
            label_column=public.label_column,
        )
    return EvalRun(started_at=started, duration_seconds=round(time.perf_counter() - clock, 1), suites=results)


def work_units(suites: tuple[str, ...], datasets: Datasets) -> int:
    """How many progress steps `run` reports for these suites."""
    golden = _lines(datasets.golden)
    drafting = {"reply", "latency"} & set(suites)
    return (
        ("triage" in suites) * _lines(datasets.tickets)
        + ("retrieval" in suites) * golden
        + bool(drafting) * golden
        + ("safety" in suites) * _lines(datasets.safety)
        + (_lines(datasets.queries) if LIBRARY_RETRIEVAL in suites and datasets.queries else 0)
    )


def _library_queries(files: Datasets) -> list[LibraryQuery]:
    if files.queries is None:
        raise ValueError(f"the {LIBRARY_RETRIEVAL} suite needs a query set for the library in use (--queries)")
    return read_cases(files.queries, LibraryQuery)


def _advance(progress: Progress | None, n: int) -> None:
    if progress:
        progress(n)


def _lines(path: Path) -> int:
    if not path.is_file():
        return 0
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
