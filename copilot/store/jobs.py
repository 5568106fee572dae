"""Backlog re-tagging jobs and their chunks in the records database (the drafts' engine: SQLite or PostgreSQL).

A job is its input split into chunks; each chunk row holds its tickets, its attempts and, once labelled,
its results. Whoever runs a chunk (an API thread, the CLI, any Celery worker) reads it from here and writes
its labels back to its own row, so a retried or redelivered chunk overwrites itself and the job's results
are the same however often a chunk ran. Job state is derived from the chunk rows in guarded updates: a job
is done once no chunk is left, failed once a chunk has run out of attempts, and never moves on from either.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine, Row

from copilot.domain import Ticket, Triage
from copilot.domain.drafts import utcnow
from copilot.store.database import as_utc, ensure_schema
from copilot.store.tables import job_chunks, jobs


class JobState(StrEnum):
    QUEUED = "queued"  # planned; no chunk has started
    RUNNING = "running"
    DONE = "done"  # every chunk labelled: results are ready
    FAILED = "failed"  # a chunk ran out of attempts: `error` says which and why


class ChunkState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"  # an attempt failed; another is scheduled
    DONE = "done"
    FAILED = "failed"


class SkippedRow(BaseModel):
    line: int = Field(description="Line of the row in the uploaded file.")
    problem: str = Field(description="Why the row is not a ticket.")


class ChunkRetry(BaseModel):
    chunk: int = Field(description="The chunk's position in the job, from 0.")
    attempts: int = Field(description="How many times the chunk was started.")
    status: ChunkState
    problems: list[str] = Field(description="What went wrong with each attempt that did not finish.")


class JobProgress(BaseModel):
    chunks_total: int
    chunks_done: int
    tickets_total: int = Field(description="Tickets to label: the good rows.")
    tickets_done: int
    skipped: list[SkippedRow] = Field(description="Rows that are not tickets, with the reason; never labelled.")
    chunks_retried: int = Field(
        description="Chunks with an attempt that failed or never finished (its worker died): retried, or given up."
    )
    retries: list[ChunkRetry] = Field(description="Each such chunk: its attempts and what went wrong with each.")


class JobStatus(BaseModel):
    id: str
    status: JobState
    source: str = Field(description="The name of the file the tickets came from.")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None = Field(description="Why the job failed; None unless it did.")
    progress: JobProgress


class JobResult(BaseModel):
    line: int = Field(description="Line of the ticket's row in the uploaded file.")
    triage: Triage


@dataclass(frozen=True)
class ChunkWork:
    """A started attempt at a chunk: its tickets, and which attempt this is (1 for the first)."""

    tickets: list[Ticket]
    attempt: int


class JobNotFound(KeyError):
    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id

    def __str__(self) -> str:
        return f"no job with id {self.job_id!r}"


class JobNotDone(RuntimeError):
    """Results were asked for before the job finished, or of a job that failed."""


def new_job_id() -> str:
    return f"JOB-{uuid.uuid4().hex[:12]}"


class JobStore:
    """Jobs and their chunks on an engine shared with the draft store (one database for all the records)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def create(
        self,
        chunks: Sequence[Sequence[tuple[int, Ticket]]],
        *,
        skipped: Sequence[SkippedRow],
        source: str,
    ) -> str:
        """Store a queued job: its chunks of (line, ticket) and its skipped rows. Returns the job id."""
        job_id, now = new_job_id(), utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                insert(jobs).values(
                    id=job_id,
                    status=JobState.QUEUED.value,
                    source=source[:300],
                    created_at=now,
                    tickets_total=sum(len(c) for c in chunks),
                    chunks_total=len(chunks),
                    skipped=[s.model_dump() for s in skipped],
                )
            )
            if chunks:
                conn.execute(
                    insert(job_chunks),
                    [
                        {
                            "job_id": job_id,
                            "chunk": index,
                            "status": ChunkState.PENDING.value,
                            "tickets": [{"line": line, **ticket.model_dump(mode="json")} for line, ticket in chunk],
                            "size": len(chunk),
                            "attempts": 0,
                            "problems": [],
                            "updated_at": now,
                        }
                        for index, chunk in enumerate(chunks)
                    ],
                )
            if not chunks:  # nothing to label: done as soon as it exists
                _finish_if_complete(conn, job_id)
        return job_id

    def chunk_count(self, job_id: str) -> int:
        with self.engine.connect() as conn:
            return int(_job_row(conn, job_id).chunks_total)

    def begin_chunk(self, job_id: str, chunk: int, *, worker: str, max_attempts: int) -> ChunkWork | None:
        """Start an attempt at a chunk: its tickets and the attempt's number, or None when there is nothing
        to do (the chunk is done, or the job has failed). A chunk found running was left unfinished by an
        earlier attempt (its worker died, or outlived the broker's visibility timeout): that is recorded as a
        problem, and a chunk started max_attempts times without finishing fails the job rather than loop."""
        now = utcnow()
        with self.engine.begin() as conn:
            job = _lock(conn, job_id)
            row = (
                conn.execute(select(job_chunks).where(job_chunks.c.job_id == job_id, job_chunks.c.chunk == chunk))
                .mappings()
                .first()
            )
            if row is None:
                raise ValueError(f"job {job_id} has chunks 0 to {job.chunks_total - 1}, not {chunk}")
            if job.status == JobState.FAILED.value or row["status"] in (ChunkState.DONE.value, ChunkState.FAILED.value):
                return None
            problems = list(row["problems"])
            if row["status"] == ChunkState.RUNNING.value:
                problems.append(
                    f"attempt {row['attempts']} on {row['worker']} did not finish; the chunk was delivered again"
                )
                if row["attempts"] >= max_attempts:
                    reason = f"chunk {chunk} was started {row['attempts']} times and never finished"
                    conn.execute(
                        update(job_chunks)
                        .where(job_chunks.c.job_id == job_id, job_chunks.c.chunk == chunk)
                        .values(status=ChunkState.FAILED.value, problems=problems, updated_at=now)
                    )
                    self._fail(conn, job_id, reason)
                    return None
            attempt = row["attempts"] + 1
            conn.execute(
                update(job_chunks)
                .where(job_chunks.c.job_id == job_id, job_chunks.c.chunk == chunk)
                .values(
                    status=ChunkState.RUNNING.value,
                    attempts=attempt,
                    problems=problems,
                    worker=worker[:200],
                    updated_at=now,
                )
            )
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == JobState.QUEUED.value)
                .values(status=JobState.RUNNING.value, started_at=now)
            )
        tickets = [Ticket.model_validate({k: v for k, v in t.items() if k != "line"}) for t in row["tickets"]]
        return ChunkWork(tickets=tickets, attempt=attempt)

    def finish_chunk(self, job_id: str, chunk: int, labels: Sequence[Triage]) -> None:
        """Write a chunk's labels to its own row (overwriting any earlier write) and finish the job if it was
        the last chunk left. The tickets' texts are dropped from the row then: labelled, a backlog ticket's text
        is personal data the job no longer needs (its results need only each ticket's line and id)."""
        with self.engine.begin() as conn:
            _lock(conn, job_id)
            size, kept = conn.execute(
                select(job_chunks.c.size, job_chunks.c.tickets).where(
                    job_chunks.c.job_id == job_id, job_chunks.c.chunk == chunk
                )
            ).one()
            if size != len(labels):
                raise ValueError(f"chunk {chunk} of job {job_id} holds {size} tickets, got {len(labels)} labels")
            conn.execute(
                update(job_chunks)
                .where(job_chunks.c.job_id == job_id, job_chunks.c.chunk == chunk)
                .values(
                    status=ChunkState.DONE.value,
                    tickets=[{"line": t["line"], "id": t["id"]} for t in kept],
                    results=[t.model_dump(mode="json") for t in labels],
                    updated_at=utcnow(),
                )
            )
            _finish_if_complete(conn, job_id)

    def chunk_failed(self, job_id: str, chunk: int, problem: str, *, final: bool) -> None:
        """Record a failed attempt; `final` (no attempt left) fails the chunk and with it the job."""
        with self.engine.begin() as conn:
            _lock(conn, job_id)
            row = conn.execute(
                select(job_chunks.c.attempts, job_chunks.c.problems, job_chunks.c.status).where(
                    job_chunks.c.job_id == job_id, job_chunks.c.chunk == chunk
                )
            ).one()
            if row.status == ChunkState.DONE.value:  # a duplicate delivery already labelled it
                return
            status = ChunkState.FAILED if final else ChunkState.RETRYING
            conn.execute(
                update(job_chunks)
                .where(job_chunks.c.job_id == job_id, job_chunks.c.chunk == chunk)
                .values(
                    status=status.value,
                    problems=[*row.problems, f"attempt {row.attempts} failed: {problem}"],
                    updated_at=utcnow(),
                )
            )
            if final:
                reason = f"chunk {chunk} failed after {row.attempts} attempts: {problem}"
                self._fail(conn, job_id, reason)

    def fail(self, job_id: str, reason: str) -> None:
        """Mark a job failed (when its chunks cannot even be handed out); a finished job stays as it is."""
        with self.engine.begin() as conn:
            _lock(conn, job_id)
            self._fail(conn, job_id, reason)

    @staticmethod
    def _fail(conn: Connection, job_id: str, reason: str) -> None:
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status.in_([JobState.QUEUED.value, JobState.RUNNING.value]))
            .values(status=JobState.FAILED.value, error=reason, finished_at=utcnow())
        )

    def status(self, job_id: str) -> JobStatus:
        """The job's state and progress; raises JobNotFound."""
        with self.engine.connect() as conn:
            job = _job_row(conn, job_id)
            chunks = conn.execute(
                select(
                    job_chunks.c.chunk,
                    job_chunks.c.status,
                    job_chunks.c.size,
                    job_chunks.c.attempts,
                    job_chunks.c.problems,
                )
                .where(job_chunks.c.job_id == job_id)
                .order_by(job_chunks.c.chunk)
            ).all()
        done = [c for c in chunks if c.status == ChunkState.DONE.value]
        retried = [
            ChunkRetry(chunk=c.chunk, attempts=c.attempts, status=ChunkState(c.status), problems=c.problems)
            for c in chunks
            if c.problems
        ]
        return JobStatus(
            id=job.id,
            status=JobState(job.status),
            source=job.source,
            created_at=as_utc(job.created_at),
            started_at=job.started_at and as_utc(job.started_at),
            finished_at=job.finished_at and as_utc(job.finished_at),
            error=job.error,
            progress=JobProgress(
                chunks_total=job.chunks_total,
                chunks_done=len(done),
                tickets_total=job.tickets_total,
                tickets_done=sum(c.size for c in done),
                skipped=[SkippedRow.model_validate(s) for s in job.skipped],
                chunks_retried=len(retried),
                retries=retried,
            ),
        )

    def results(self, job_id: str) -> Iterator[JobResult]:
        """Every ticket's labels in input order; raises JobNotFound, or JobNotDone unless the job is done."""
        status = self.status(job_id)
        if status.status is not JobState.DONE:
            progress = status.progress
            detail = status.error or f"{progress.chunks_done} of {progress.chunks_total} chunks done"
            raise JobNotDone(f"job {job_id} is {status.status.value} ({detail}); results come when it is done")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(job_chunks.c.tickets, job_chunks.c.results)
                .where(job_chunks.c.job_id == job_id)
                .order_by(job_chunks.c.chunk)
            )
            for row in rows:
                for ticket, labels in zip(row.tickets, row.results, strict=True):
                    yield JobResult(line=ticket["line"], triage=Triage.model_validate(labels))


def _job_row(conn: Connection, job_id: str) -> Row[Any]:
    job = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if job is None:
        raise JobNotFound(job_id)
    return job


def _lock(conn: Connection, job_id: str) -> Row[Any]:
    """Open the transaction with a write to the job's row, so that writers to one job take turns: PostgreSQL
    locks the row, SQLite takes its write lock before anything is read (a transaction that reads first and
    writes later fails at once with "database is locked" when another is writing). The last chunk to finish
    then sees every other chunk done, whichever worker it ran on."""
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(status=jobs.c.status))
    return _job_row(conn, job_id)


def _finish_if_complete(conn: Connection, job_id: str) -> None:
    left = conn.execute(
        select(func.count())
        .select_from(job_chunks)
        .where(job_chunks.c.job_id == job_id, job_chunks.c.status != ChunkState.DONE.value)
    ).scalar_one()
    if left == 0:
        now = utcnow()
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status.in_([JobState.QUEUED.value, JobState.RUNNING.value]))
            .values(status=JobState.DONE.value, finished_at=now, started_at=func.coalesce(jobs.c.started_at, now))
        )
