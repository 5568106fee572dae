"""Backlog jobs as the faces use them: submit a file, follow a job, read its results. Chunks go to the
Celery workers when a broker is configured, and to this process (a background thread, or the caller)
otherwise; either way state and results are in the records database, which every process shares."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from celery import Celery
from kombu.utils.url import maybe_sanitize_url

from copilot.jobs.celery_app import celery_app, send_chunks
from copilot.jobs.chunks import RetryPolicy, describe
from copilot.jobs.plan import NoTickets, plan_job
from copilot.jobs.runner import ThreadRunner, run_here
from copilot.services import Services
from copilot.store.jobs import JobResult, JobStatus, JobStore
from copilot.triage.tables import read_rows

__all__ = ["BacklogJobs", "BrokerUnavailable", "NoTickets"]


class BrokerUnavailable(RuntimeError):
    """The broker could not take a job's chunks; the job is marked failed with the reason."""


class BacklogJobs:
    """The jobs of one process, over its services bundle (built once, like the bundle)."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.services = services
        self.store = JobStore(services.store.engine)
        self.policy = RetryPolicy(max_retries=settings.job_max_retries, backoff_s=settings.job_retry_backoff_s)
        self._celery: Celery | None = celery_app(settings) if settings.broker_url else None
        self._thread: ThreadRunner | None = None
        self._lock = threading.Lock()

    @property
    def on_workers(self) -> bool:
        """Whether chunks run on Celery workers (a broker is configured) rather than in this process."""
        return self._celery is not None

    def create(self, path: Path, *, text_column: str, id_column: str | None, source: str | None = None) -> str:
        """Plan a .jsonl or .csv file into a queued job and store it. Returns the job id; raises TableError
        for an unreadable file, NoTickets when no row is a ticket."""
        name = source or path.name
        plan = plan_job(
            read_rows(path),
            text_column=text_column,
            id_column=id_column,
            max_chars=self.services.settings.max_ticket_chars,
            chunk_size=self.services.settings.job_chunk_size,
            source=name,
        )
        return self.store.create(plan.chunks, skipped=plan.skipped, source=name)

    def start(self, job_id: str) -> None:
        """Hand the job's chunks to the workers, or to this process's background thread; raises
        BrokerUnavailable (failing the job) when the broker cannot be reached."""
        if self._celery is None:
            with self._lock:
                if self._thread is None:
                    self._thread = ThreadRunner(self.store, services=self.services, policy=self.policy)
            self._thread.submit(job_id)
            return
        try:
            send_chunks(self._celery, job_id, self.store.chunk_count(job_id))
        except Exception as exc:  # kombu and redis raise their own connection errors
            reason = f"the broker at {_redacted(self.services.settings.broker_url)} cannot take chunks: {describe(exc)}"
            self.store.fail(job_id, reason)
            raise BrokerUnavailable(reason) from exc

    def run_here(self, job_id: str, *, progress: Callable[[int], None] | None = None) -> None:
        """Run the job in the caller, to its end (done, or failed with the reason)."""
        run_here(self.store, job_id, services=self.services, policy=self.policy, progress=progress)

    def status(self, job_id: str) -> JobStatus:
        return self.store.status(job_id)

    def results(self, job_id: str) -> Iterator[JobResult]:
        return self.store.results(job_id)


def _redacted(url: str | None) -> str:
    """The broker URL without its password."""
    return str(maybe_sanitize_url(url or ""))
