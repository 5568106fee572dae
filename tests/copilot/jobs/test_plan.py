"""Planning a file into chunks, and the pauses between a chunk's attempts."""

from __future__ import annotations

import pytest

from copilot.jobs.chunks import RetryPolicy
from copilot.jobs.plan import NoTickets, plan_job
from copilot.triage.tables import Row

pytestmark = pytest.mark.unit


def rows(count: int) -> list[Row]:
    return [Row(line=n + 1, values={"id": f"T-{n}", "text": f"ticket {n}"}) for n in range(count)]


def test_good_rows_are_chunked_in_input_order_and_bad_rows_kept_with_their_line() -> None:
    plan = plan_job(
        [*rows(5), Row(line=6, values={}, problem="not valid JSON")],
        text_column="text",
        id_column="id",
        max_chars=1000,
        chunk_size=2,
        source="backlog.jsonl",
    )
    assert [[(line, t.id) for line, t in chunk] for chunk in plan.chunks] == [
        [(1, "T-0"), (2, "T-1")],
        [(3, "T-2"), (4, "T-3")],
        [(5, "T-4")],
    ]
    assert plan.tickets == 5
    assert [(s.line, s.problem) for s in plan.skipped] == [(6, "not valid JSON")]


def test_a_file_without_a_ticket_names_the_first_problem_and_how_many_more() -> None:
    expected = r"^b.csv: no row is a ticket; line 1: no column 'body' \(and 2 more bad rows\)$"
    with pytest.raises(NoTickets, match=expected):
        plan_job(rows(3), text_column="body", id_column=None, max_chars=1000, chunk_size=2, source="b.csv")


def test_a_chunk_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="chunk_size must be >= 1, got 0"):
        plan_job(rows(1), text_column="text", id_column="id", max_chars=1000, chunk_size=0, source="b.csv")


def test_each_retry_waits_twice_as_long_as_the_one_before() -> None:
    policy = RetryPolicy(max_retries=3, backoff_s=2.0)
    assert policy.max_attempts == 4
    assert [policy.pause_after(attempt) for attempt in (1, 2, 3)] == [2.0, 4.0, 8.0]
