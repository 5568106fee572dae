"""One attempt at one chunk, the same whoever runs it (a Celery worker, the API's thread, the CLI): start it
in the store, label its tickets with the pipeline, write the labels to the chunk's own row; on a failure,
record it and say whether to try again (after a growing pause) or give the chunk, and so the job, up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from copilot.pipeline import triage_batch
from copilot.services import Services
from copilot.store.jobs import JobStore


@dataclass(frozen=True)
class RetryPolicy:
    """A chunk is started at most `max_retries + 1` times; the pause before retry n is backoff_s * 2**(n-1)."""

    max_retries: int = 3
    backoff_s: float = 2.0

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def pause_after(self, attempt: int) -> float:
        return float(self.backoff_s * 2 ** (attempt - 1))


@dataclass(frozen=True)
class Outcome:
    """What became of an attempt: labelled (`tickets` > 0), nothing to do, retry after `retry_in` seconds,
    or failed for good (`error` set, the job marked failed)."""

    tickets: int = 0
    retry_in: float | None = None
    error: Exception | None = None


def attempt_chunk(
    jobs: JobStore,
    job_id: str,
    chunk: int,
    *,
    services: Callable[[], Services],
    worker: str,
    policy: RetryPolicy,
) -> Outcome:
    """Run one attempt at a chunk. `services` is called only once the chunk is known to need work; if it
    raises (a worker that cannot load its model, say), that attempt has failed like any other."""
    work = jobs.begin_chunk(job_id, chunk, worker=worker, max_attempts=policy.max_attempts)
    if work is None:
        return Outcome()
    try:
        labels = triage_batch(work.tickets, services=services())
        jobs.finish_chunk(job_id, chunk, labels)
    except Exception as exc:  # every failure of an attempt is recorded, retried within bounds, then reported
        final = work.attempt >= policy.max_attempts
        jobs.chunk_failed(job_id, chunk, describe(exc), final=final)
        return Outcome(error=exc) if final else Outcome(retry_in=policy.pause_after(work.attempt))
    return Outcome(tickets=len(labels))


def describe(exc: Exception) -> str:
    """One line naming the failure, without the values involved: a validation error's message can quote its
    input, which may be a ticket's text."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{type(exc).__name__}: {where}: {first['msg']}"
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
