"""Chunks as Celery tasks on Redis: the app both sides build (the submitter sends, `copilot worker` runs),
and the services each worker process builds for itself, once, after the fork.

Delivery is at least once: a task is acknowledged only when it has run (`task_acks_late`), a worker takes
one chunk at a time (`worker_prefetch_multiplier=1`), a chunk whose worker process dies is put back
(`task_reject_on_worker_lost`), and one whose whole worker (or machine) died is handed out again by Redis
once the visibility timeout has passed. Running a chunk twice is harmless: it rewrites its own row.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import Celery, Task

from copilot.jobs.chunks import RetryPolicy, attempt_chunk, describe
from copilot.services import Services, build_services, load_triage_model
from copilot.settings import Settings
from copilot.store.jobs import JobStore

TASK_NAME = "copilot.triage_chunk"
# Seconds between two sweeps for chunks past the visibility timeout (kombu's default sweeps every ~100 s).
RESTORE_SWEEP_S = 5

log = logging.getLogger(__name__)


class WorkerProcess:
    """What one worker process needs, built on first use (so after the fork, never shared between processes).
    The triage model is loaded apart, and again on the next chunk if it could not be: a worker started before
    its model was copied in fails its chunks (they are retried, maybe elsewhere) until the model is there."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._services: Services | None = None
        self._jobs: JobStore | None = None
        self._lock = threading.Lock()

    def _base(self) -> Services:
        with self._lock:
            if self._services is None:  # both or neither: a failure here is tried again on the next chunk
                services = build_services(self.settings)
                self._jobs = JobStore(services.store.engine)
                self._services = services
            return self._services

    def jobs(self) -> JobStore:
        self._base()
        assert self._jobs is not None
        return self._jobs

    def services(self) -> Services:
        """The bundle with its triage model; raises what loading the model raises."""
        services = self._base()
        with self._lock:
            if services.classifier is None:
                load_triage_model(services, train_if_missing=False)
        return services

    def warm(self) -> None:
        """Build everything now (at the process's start), logging rather than raising what fails."""
        try:
            self.services()
        except Exception as exc:  # the chunks will fail with the same reason, and say so in the job
            log.error("worker process %s cannot label tickets yet: %s", os.getpid(), str(exc).splitlines()[0])


def celery_app(settings: Settings, *, worker: WorkerProcess | None = None) -> Celery:
    """The Celery app on settings.broker_url (broker and result backend). Pass `worker` to run chunks here."""
    if not settings.broker_url:
        raise ValueError("backlog jobs on workers need COPILOT_BROKER_URL (redis://host:port/db)")
    app = Celery("copilot", broker=settings.broker_url, backend=settings.broker_url, set_as_current=False)
    transport = {
        "visibility_timeout": settings.broker_visibility_timeout_s,
        "unacked_restore_interval": RESTORE_SWEEP_S,
        "unacked_restore_throttle": 1,
    }
    app.conf.update(
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_reject_on_worker_lost=True,
        broker_transport_options=transport,
        result_backend_transport_options={"visibility_timeout": settings.broker_visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=24 * 3600,
        worker_send_task_events=False,
    )
    policy = RetryPolicy(max_retries=settings.job_max_retries, backoff_s=settings.job_retry_backoff_s)

    def pause(seconds: float) -> None:
        """Wait before a retry here, holding the chunk, then put it back on the queue for any worker. Not a
        countdown: a worker holding countdown (ETA) tasks under acks_late and a prefetch of 1 was seen to stop
        taking them from Redis, leaving the job running for ever. Kept under the visibility timeout, past
        which Redis would hand the chunk to another worker meanwhile."""
        time.sleep(min(seconds, settings.broker_visibility_timeout_s / 2))

    # Attempts are bounded by the store's count of them, which also counts deliveries to workers that died.
    @app.task(bind=True, name=TASK_NAME, max_retries=None)  # type: ignore[untyped-decorator]
    def triage_chunk(self: Task, job_id: str, chunk: int) -> int:
        """Label one chunk; retried after a pause while attempts remain, then raising the chunk's error."""
        if worker is None:
            raise RuntimeError("this Celery app was built to send chunks, not to run them")
        try:
            outcome = attempt_chunk(
                worker.jobs(),
                job_id,
                chunk,
                services=worker.services,
                worker=f"{self.request.hostname} pid {os.getpid()}",
                policy=policy,
            )
        except Exception as exc:  # the store could not record the attempt: Celery counts these retries
            if self.request.retries >= policy.max_retries:
                _give_up(worker, job_id, f"chunk {chunk}: the records database failed: {describe(exc)}")
                raise
            pause(policy.pause_after(self.request.retries + 1))
            raise self.retry(exc=exc, countdown=0) from exc
        if outcome.retry_in is not None:
            pause(outcome.retry_in)
            raise self.retry(countdown=0)
        if outcome.error is not None:
            raise outcome.error
        return outcome.tickets

    return app


def _give_up(worker: WorkerProcess, job_id: str, reason: str) -> None:
    """Mark the job failed if the store can still be written; a job is never left running for nothing."""
    try:
        worker.jobs().fail(job_id, reason)
    except Exception as exc:
        log.error("job %s could not be marked failed (%s): %s", job_id, reason, describe(exc))


def send_chunks(app: Celery, job_id: str, chunks: int) -> None:
    """Queue one task per chunk; raises what the broker connection raises when Redis cannot be reached."""
    for chunk in range(chunks):
        app.send_task(TASK_NAME, args=[job_id, chunk])
