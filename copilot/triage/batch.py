"""Bulk tagging of backlogs: rows in, one Triage per good row out, bad rows reported and skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pydantic import ValidationError

from copilot.domain import Ticket, Triage
from copilot.domain.tickets import TicketTooLong, admit
from copilot.triage.tables import Row

CHUNK = 256  # tickets embedded in one batch: fast, and the progress bar still moves


@dataclass(frozen=True)
class RowProblem:
    line: int
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


def tickets_from_rows(
    rows: Iterable[Row], *, text_column: str, id_column: str | None, max_chars: int
) -> Iterator[tuple[Row, Ticket | RowProblem]]:
    """Each row with its ticket, or with the reason it cannot be one (never silently dropped)."""
    for row in rows:
        if row.problem:
            yield row, RowProblem(row.line, row.problem)
            continue
        if text_column not in row.values:
            yield row, RowProblem(row.line, f"no column {text_column!r}")
            continue
        text = str(row.values[text_column] or "")
        ticket_id = str(row.values.get(id_column) or "") if id_column else ""
        try:
            ticket = admit(Ticket(text=text, **({"id": ticket_id} if ticket_id else {})), max_chars=max_chars)
        except ValidationError as exc:
            yield row, RowProblem(row.line, exc.errors()[0]["msg"].removeprefix("Value error, "))
            continue
        except TicketTooLong as exc:
            yield row, RowProblem(row.line, str(exc))
            continue
        yield row, ticket


def tag_in_chunks(
    tickets: Iterable[Ticket],
    *,
    label: Callable[[list[Ticket]], list[Triage]],
    progress: Callable[[int], None] | None = None,
) -> Iterator[Triage]:
    """Label tickets CHUNK at a time, in input order."""
    chunk: list[Ticket] = []
    for ticket in tickets:
        chunk.append(ticket)
        if len(chunk) == CHUNK:
            yield from label(chunk)
            if progress:
                progress(len(chunk))
            chunk = []
    if chunk:
        yield from label(chunk)
        if progress:
            progress(len(chunk))
