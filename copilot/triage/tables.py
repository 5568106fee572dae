"""Ticket files as rows: JSONL (one object a line) or CSV (a header row), read and written the same way."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = (".jsonl", ".csv")


class TableError(ValueError):
    """The file as a whole cannot be read (missing, wrong format)."""


@dataclass(frozen=True)
class Row:
    """One data row and its line number in the file; `problem` is set for a row that cannot be read."""

    line: int
    values: dict[str, Any]
    problem: str | None = None


def _check(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise TableError(f"{path}: expected a .jsonl or .csv file, got {suffix or 'no extension'}")
    return suffix


def read_rows(path: Path) -> Iterator[Row]:
    """Every row of a .jsonl or .csv file; unreadable rows come with their problem, not an exception."""
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    if _check(path) == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            for line, values in enumerate(csv.DictReader(handle), start=2):
                yield Row(line, dict(values))
        return
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                values = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Row(line, {}, f"not valid JSON: {exc.msg}")
                continue
            if isinstance(values, dict):
                yield Row(line, values)
            else:
                yield Row(line, {}, "expected a JSON object")


def write_rows(path: Path, rows: Iterable[dict[str, Any]], *, columns: list[str]) -> int:
    """Write rows as JSONL or CSV (by the file's extension); lists become '|'-joined in CSV. Returns the count."""
    suffix = _check(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        if suffix == ".jsonl":
            for row in rows:
                handle.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n")
                count += 1
            return count
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "|".join(v) if isinstance(v := row.get(c), list) else v for c in columns})
            count += 1
    return count
