"""A backlog of any size made from the shipped training tickets, for benchmarks and load tests."""

from __future__ import annotations

import json
from pathlib import Path

from copilot.triage.tables import read_rows
from copilot.triage.training import TRAINING_TICKETS


def sample_backlog(training_dir: Path, count: int) -> list[dict[str, str]]:
    """`count` rows {"id", "text"}: the training tickets' texts in turn, each row with a new id."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    texts = [str(row.values["text"]) for row in read_rows(training_dir / TRAINING_TICKETS) if not row.problem]
    if not texts:
        raise ValueError(f"{training_dir / TRAINING_TICKETS} holds no ticket")
    return [{"id": f"BL-{n:06d}", "text": texts[n % len(texts)]} for n in range(count)]


def write_backlog(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write rows as JSONL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path
