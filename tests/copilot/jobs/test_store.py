"""The job store's contract, on SQLite and, when reachable, the PostgreSQL server: what a job's progress and
results show when chunks finish, finish twice, fail, or are delivered again after their worker died."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from copilot.domain import Ticket
from copilot.store.jobs import JobNotDone, JobNotFound, JobState, JobStore, SkippedRow
from tests.factories import labels

pytestmark = pytest.mark.integration


@pytest.fixture
def store(database_url: str) -> Iterator[JobStore]:
    engine = sa.create_engine(database_url)
    yield JobStore(engine)
    engine.dispose()


def a_job(store: JobStore, sizes: tuple[int, ...] = (2, 1)) -> str:
    """A job of chunks of these sizes; ticket T-n on line n + 1; one skipped row on line 99."""
    chunks, n = [], 0
    for size in sizes:
        chunks.append([(n + i + 1, Ticket(id=f"T-{n + i}", text=f"ticket {n + i}")) for i in range(size)])
        n += size
    return store.create(chunks, skipped=[SkippedRow(line=99, problem="not valid JSON")], source="backlog.jsonl")


def label(store: JobStore, job_id: str, chunk: int, *, worker: str = "w1") -> None:
    work = store.begin_chunk(job_id, chunk, worker=worker, max_attempts=4)
    assert work is not None
    store.finish_chunk(
        job_id,
        chunk,
        [
            labels("payout_missing", "en", "creator_rewards").model_copy(update={"ticket_id": t.id})
            for t in work.tickets
        ],
    )


def test_a_job_is_queued_then_running_then_done_with_results_in_input_order(store: JobStore) -> None:
    job_id = a_job(store)
    queued = store.status(job_id)
    assert (queued.status, queued.progress.tickets_total, queued.progress.chunks_total) == (JobState.QUEUED, 3, 2)
    assert queued.progress.skipped == [SkippedRow(line=99, problem="not valid JSON")]
    label(store, job_id, 1)
    assert store.status(job_id).status is JobState.RUNNING
    assert store.status(job_id).progress.tickets_done == 1
    with pytest.raises(JobNotDone, match="is running \\(1 of 2 chunks done\\)"):
        list(store.results(job_id))
    label(store, job_id, 0)
    done = store.status(job_id)
    assert done.status is JobState.DONE and done.finished_at is not None and done.progress.tickets_done == 3
    assert [(r.line, r.triage.ticket_id) for r in store.results(job_id)] == [(1, "T-0"), (2, "T-1"), (3, "T-2")]


def test_a_chunk_labelled_twice_keeps_one_result_per_ticket(store: JobStore) -> None:
    job_id = a_job(store)
    label(store, job_id, 0)
    work = store.begin_chunk(job_id, 0, worker="w2", max_attempts=4)
    assert work is None, "a done chunk is not run again"
    store.finish_chunk(  # a duplicate delivery that was already running writes over its own row
        job_id,
        0,
        [
            labels("payout_missing", "en", "creator_rewards").model_copy(update={"ticket_id": f"T-{i}"})
            for i in range(2)
        ],
    )
    label(store, job_id, 1)
    assert [r.triage.ticket_id for r in store.results(job_id)] == ["T-0", "T-1", "T-2"]


def test_a_chunk_delivered_again_after_its_worker_died_is_reported_and_its_result_kept(store: JobStore) -> None:
    job_id = a_job(store)
    assert store.begin_chunk(job_id, 0, worker="w1", max_attempts=4) is not None  # w1 dies here
    label(store, job_id, 0, worker="w2")
    label(store, job_id, 1)
    progress = store.status(job_id).progress
    assert progress.chunks_retried == 1
    [retry] = progress.retries
    assert (retry.chunk, retry.attempts) == (0, 2)
    assert retry.problems == ["attempt 1 on w1 did not finish; the chunk was delivered again"]
    assert store.status(job_id).status is JobState.DONE


def test_a_chunk_that_never_finishes_fails_the_job_instead_of_looping(store: JobStore) -> None:
    job_id = a_job(store)
    for worker in ("w1", "w2"):
        assert store.begin_chunk(job_id, 0, worker=worker, max_attempts=2) is not None
    assert store.begin_chunk(job_id, 0, worker="w3", max_attempts=2) is None
    failed = store.status(job_id)
    assert failed.status is JobState.FAILED and failed.error == "chunk 0 was started 2 times and never finished"


def test_a_chunk_out_of_attempts_fails_the_job_and_stops_the_rest(store: JobStore) -> None:
    job_id = a_job(store)
    for attempt in (1, 2):
        work = store.begin_chunk(job_id, 0, worker="w1", max_attempts=2)
        assert work is not None and work.attempt == attempt
        store.chunk_failed(job_id, 0, "OSError: disk full", final=attempt == 2)
    failed = store.status(job_id)
    assert failed.status is JobState.FAILED
    assert failed.error == "chunk 0 failed after 2 attempts: OSError: disk full"
    assert failed.progress.retries[0].problems == [
        "attempt 1 failed: OSError: disk full",
        "attempt 2 failed: OSError: disk full",
    ]
    assert store.begin_chunk(job_id, 1, worker="w2", max_attempts=2) is None, "a failed job runs no more chunks"
    with pytest.raises(JobNotDone, match="failed \\(chunk 0 failed"):
        list(store.results(job_id))


def test_an_unknown_job_is_reported_by_id(store: JobStore) -> None:
    with pytest.raises(JobNotFound, match="JOB-missing"):
        store.status("JOB-missing")
