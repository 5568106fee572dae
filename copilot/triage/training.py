"""Train an intent classifier on labelled tickets (JSONL or CSV) and write a versioned artifact."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings
from sklearn.metrics import accuracy_score, f1_score

from copilot.domain.taxonomy import Taxonomy
from copilot.triage.classifier import IntentClassifier, TriageModelError, data_hash, new_version
from copilot.triage.metrics import expected_calibration_error
from copilot.triage.service import Thresholds
from copilot.triage.tables import TableError, read_rows

TRAINING_TICKETS = "tickets.jsonl"
# Extra labelled tickets, training only, in the order the default model reads them: ones that teach the
# risk flags, ones labelled for whether they say enough to answer, and ones in languages the splits hold few of.
EXTRA_TRAINING_DIRS = ("flags", "detail", "languages")
FLAGS_COLUMN = "risk_flags"
DETAIL_COLUMN = "needs_detail"


def training_files(training_dir: Path) -> list[Path]:
    """Every file of the default model's training data, in a fixed order (the fit depends on it)."""
    extra = [path for folder in EXTRA_TRAINING_DIRS for path in sorted((training_dir / folder).glob("*.jsonl"))]
    return [training_dir / TRAINING_TICKETS, *extra]


class TrainingDataError(ValueError):
    """The training file cannot be used; the message names the file, the row and the problem."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    flags: frozenset[str] | None = None  # None: this example's risk flags are not labelled
    needs_detail: bool | None = None  # None: not labelled whether the ticket says enough to answer


def read_examples(
    path: Path,
    *,
    text_column: str = "text",
    label_column: str = "intent",
    flags_column: str | None = None,
    detail_column: str | None = None,
) -> list[Example]:
    """Labelled examples from a .jsonl or .csv file; raises TrainingDataError naming the bad row.

    With `flags_column`, each row's risk flags too: a JSON list, or in CSV a '|'-separated string.
    With `detail_column`, whether the ticket says too little to answer: true/false, empty if not labelled.
    """
    examples = []
    try:
        rows = list(read_rows(path))
    except TableError as exc:
        raise TrainingDataError(str(exc)) from exc
    for row in rows:
        if row.problem:
            raise TrainingDataError(f"{path}:{row.line}: {row.problem}")
        for column in (text_column, label_column):
            if column not in row.values:
                raise TrainingDataError(f"{path}:{row.line}: no column {column!r}; columns are {', '.join(row.values)}")
        text, label = str(row.values[text_column] or "").strip(), str(row.values[label_column] or "").strip()
        if not text or not label:
            raise TrainingDataError(f"{path}:{row.line}: empty {text_column if not text else label_column}")
        flags = _flags(path, row.line, row.values.get(flags_column)) if flags_column else None
        detail = _yes_no(path, row.line, row.values.get(detail_column)) if detail_column else None
        examples.append(Example(text=text, label=label, flags=flags, needs_detail=detail))
    if not examples:
        raise TrainingDataError(f"{path}: no examples")
    return examples


def _flags(path: Path, line: int, value: object) -> frozenset[str]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    if isinstance(value, str):
        return frozenset(v.strip() for v in value.split("|") if v.strip())
    if value is None:
        return frozenset()
    raise TrainingDataError(f"{path}:{line}: risk flags must be a list of names or a '|'-separated string")


def _yes_no(path: Path, line: int, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    answer = str(value).strip().lower()
    if answer in ("", "none", "null"):
        return None
    if answer in ("true", "yes", "1"):
        return True
    if answer in ("false", "no", "0"):
        return False
    raise TrainingDataError(f"{path}:{line}: needs-detail must be true or false, got {value!r}")


def stratified_split(
    examples: list[Example], *, held_out: float, seed: int = 13
) -> tuple[list[Example], list[Example]]:
    """Hold out a share of each label (at least one example of labels with three or more)."""
    by_label: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_label[example.label].append(example)
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        n = round(len(group) * held_out) if len(group) >= 3 else 0
        n = max(n, 1) if len(group) >= 3 else 0
        test += group[:n]
        train += group[n:]
    return train, test


def train_classifier(
    train: list[Example],
    *,
    evaluate_on: list[Example],
    embeddings: Embeddings,
    embedder_version: str,
    taxonomy: Taxonomy | None,
    thresholds: Thresholds,
    source: str,
) -> IntentClassifier:
    """Fit on `train`, measure on `evaluate_on`, and return the classifier with its metadata filled in.

    With a taxonomy, every label must be one of its intents (or the out-of-scope label).
    """
    labels = sorted({e.label for e in train})
    if taxonomy is not None:
        unknown = sorted(set(labels) - set(taxonomy.labels))
        if unknown:
            raise TrainingDataError(f"{source}: labels not in the taxonomy: {', '.join(unknown[:10])}")
    with_flags = all(e.flags is not None for e in train)
    known_flags = list(taxonomy.risk_flags) if taxonomy else sorted({f for e in train for f in e.flags or ()})
    if with_flags and taxonomy is not None:
        unknown_flags = sorted({f for e in train for f in e.flags or ()} - set(known_flags))
        if unknown_flags:
            raise TrainingDataError(f"{source}: risk flags not in the taxonomy: {', '.join(unknown_flags)}")
    started = dt.datetime.now(dt.UTC)
    classifier = IntentClassifier(embeddings=embeddings)
    classifier.fit(
        [e.text for e in train],
        [e.label for e in train],
        flag_sets=[e.flags or frozenset() for e in train] if with_flags else None,
        flags=known_flags,
        needs_detail=[e.needs_detail for e in train],
    )
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    metrics: dict[str, float | int] = {"train_examples": len(train), "train_seconds": round(seconds, 2)}
    metrics["needs_detail_examples"] = sum(e.needs_detail is not None for e in train)
    if evaluate_on:
        metrics |= heldout_metrics(classifier, evaluate_on)
    classifier.metadata = {
        "version": new_version(),
        "created_at": started.isoformat(),
        "source": source,
        "data_hash": data_hash([e.text for e in train], [e.label for e in train]),
        "labels": classifier.labels,
        "embedder": embedder_version,
        "taxonomy_version": taxonomy.version if taxonomy else None,
        "thresholds": {"auto": thresholds.auto, "suggest": thresholds.suggest},
        "flag_thresholds": classifier.flag_detector.thresholds if classifier.flag_detector else {},
        "needs_detail_threshold": classifier.detail_threshold if classifier.detail_model else None,
        "metrics": metrics,
    }
    return classifier


def heldout_metrics(classifier: IntentClassifier, examples: list[Example]) -> dict[str, float | int]:
    """Accuracy, macro-F1 and calibration error of a trained classifier on labelled examples."""
    predictions = classifier.predict([e.text for e in examples])
    gold, predicted = [e.label for e in examples], [p.intent for p in predictions]
    correct = [g == p for g, p in zip(gold, predicted)]
    return {
        "heldout_examples": len(examples),
        "heldout_accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "heldout_macro_f1": round(float(f1_score(gold, predicted, average="macro", zero_division=0)), 4),
        "heldout_ece": round(expected_calibration_error([p.confidence for p in predictions], correct), 4),
    }


def latest_artifact(models_dir: Path) -> Path | None:
    """The newest artifact folder (versions sort by time), or None."""
    if not models_dir.is_dir():
        return None
    folders = sorted(p for p in models_dir.iterdir() if p.is_dir() and p.name.startswith("triage-"))
    return folders[-1] if folders else None


def load_classifier(
    path: Path, *, embeddings: Embeddings, embedder_version: str, taxonomy: Taxonomy
) -> IntentClassifier:
    if not path.exists():
        raise TriageModelError(f"{path}: no triage model there; run `copilot triage train`")
    return IntentClassifier.load(path, embeddings=embeddings, embedder_version=embedder_version, labels=taxonomy.labels)
