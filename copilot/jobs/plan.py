"""A file of tickets as a job's plan: its good rows in chunks, its bad rows with their reasons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from copilot.domain import Ticket
from copilot.store.jobs import SkippedRow
from copilot.triage.batch import RowProblem, tickets_from_rows
from copilot.triage.tables import Row


class NoTickets(ValueError):
    """A file with no row that is a ticket: nothing to run, and most likely the wrong column."""


@dataclass(frozen=True)
class JobPlan:
    chunks: list[list[tuple[int, Ticket]]]  # (line in the file, ticket), in input order
    skipped: list[SkippedRow]

    @property
    def tickets(self) -> int:
        return sum(len(c) for c in self.chunks)


def plan_job(
    rows: Iterable[Row], *, text_column: str, id_column: str | None, max_chars: int, chunk_size: int, source: str
) -> JobPlan:
    """Split a file's rows into chunks of at most chunk_size tickets; raises NoTickets if no row is one."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    good: list[tuple[int, Ticket]] = []
    skipped: list[SkippedRow] = []
    for row, item in tickets_from_rows(rows, text_column=text_column, id_column=id_column, max_chars=max_chars):
        if isinstance(item, RowProblem):
            skipped.append(SkippedRow(line=item.line, problem=item.problem))
        else:
            good.append((row.line, item))
    if not good:
        first = f"; line {skipped[0].line}: {skipped[0].problem}" if skipped else ""
        more = f" (and {len(skipped) - 1} more bad rows)" if len(skipped) > 1 else ""
        raise NoTickets(f"{source}: no row is a ticket{first}{more}")
    return JobPlan(chunks=[good[i : i + chunk_size] for i in range(0, len(good), chunk_size)], skipped=skipped)
