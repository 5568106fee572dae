"""Benchmark the intent classifier on a public dataset: accuracy, macro-F1, calibration, training
time and batch throughput, measured on this machine (Banking77 by default, see evals/benchmarks/)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from copilot.triage import Thresholds
from copilot.triage.training import read_examples, train_classifier
from evals.results import Measures, SuiteResult
from evals.suites.triage import classification_result

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
BANKING77 = BENCHMARKS / "banking77"


@dataclass(frozen=True)
class Benchmark:
    """A public labelled dataset split into train.csv and test.csv, with its column names."""

    name: str
    folder: Path
    text_column: str
    label_column: str


PUBLIC = {
    "banking77": Benchmark("banking77", BANKING77, "text", "category"),
    "bitext": Benchmark("bitext", BENCHMARKS / "bitext", "text", "intent"),
}


def benchmark_suite(
    name: str,
    train_path: Path,
    test_path: Path,
    *,
    embeddings: Embeddings,
    embedder_version: str,
    text_column: str,
    label_column: str,
) -> SuiteResult:
    """Train on one file, measure on the other: the triage metrics plus wall-clock seconds on this machine."""
    train = read_examples(train_path, text_column=text_column, label_column=label_column)
    test = read_examples(test_path, text_column=text_column, label_column=label_column)
    started = time.perf_counter()
    classifier = train_classifier(
        train,
        evaluate_on=[],
        embeddings=embeddings,
        embedder_version=embedder_version,
        taxonomy=None,
        thresholds=Thresholds(auto=1.0, suggest=0.0),
        source=str(train_path),
    )
    training_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predictions = classifier.predict([e.text for e in test])
    predict_seconds = time.perf_counter() - started
    result = classification_result(
        f"benchmark_{name}",
        str(test_path),
        cases=[(f"{name}-{n}", e.text) for n, e in enumerate(test, start=1)],
        gold=[e.label for e in test],
        predicted=[(p.intent, p.confidence) for p in predictions],
    )
    measures = Measures()
    measures.put("train_examples", len(train))
    measures.put("labels", len(classifier.labels))
    measures.put("training_seconds_including_embedding", round(training_seconds, 1))
    measures.ratio("batch_tickets_per_second", len(test), predict_seconds, digits=1, reason="nothing was predicted")
    result.add(measures)
    return result
