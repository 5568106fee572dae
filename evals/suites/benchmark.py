"""Benchmark the intent classifier on a public dataset: accuracy, macro-F1, calibration, training
time and batch throughput, measured on this machine (Banking77 by default, see evals/benchmarks/)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from copilot.domain import Ticket
from copilot.pipeline import triage_batch
from copilot.services import Services
from copilot.triage import Thresholds
from copilot.triage.batch import CHUNK
from copilot.triage.training import read_examples, train_classifier
from evals.results import Measures, SuiteResult
from evals.suites.triage import classification_result
from knowledge_base.embeddings import LocalMiniLMEmbeddings

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
BANKING77 = BENCHMARKS / "banking77"


def triage_throughput(services: Services, texts: list[str], *, at_least: int = 3000) -> float:
    """Tickets per second through the whole triage (classifier, flags, rules, language, sentiment), batched."""
    tickets = [Ticket(text=t) for t in (texts * (at_least // len(texts) + 1))[:at_least]]
    started = time.perf_counter()
    for start in range(0, len(tickets), CHUNK):
        triage_batch(tickets[start : start + CHUNK], services=services)
    return round(len(tickets) / (time.perf_counter() - started), 1)


def machine_yardstick(texts: list[str]) -> float:
    """Texts per second of plain MiniLM in sentence-transformers (PyTorch, batches of 32) on this machine
    now: the yardstick the team's figures are given against ("about 300 short texts/s on two cores"),
    so a throughput can be read apart from how fast the machine happens to be today."""
    model = LocalMiniLMEmbeddings(batch_size=32)
    model.embed_documents(texts[:32])  # load and warm up outside the timing
    started = time.perf_counter()
    model.embed_documents(texts)
    return round(len(texts) / (time.perf_counter() - started), 1)


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
