"""Jobs run in this process, without a broker: chunk after chunk, retried after a pause like on a worker.
`run_here` runs one job to its end (the CLI, with a progress bar); `ThreadRunner` runs the jobs an API
process is given one at a time on a background thread, so the request that submits one returns at once."""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable

from copilot.jobs.chunks import RetryPolicy, attempt_chunk, describe
from copilot.services import Services
from copilot.store.jobs import JobStore

log = logging.getLogger(__name__)


def this_process() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


def run_here(
    jobs: JobStore,
    job_id: str,
    *,
    services: Services,
    policy: RetryPolicy,
    progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run every chunk of a job in order, here; stops at the first chunk that runs out of attempts (the job
    is then failed, with the reason, in the store). `progress` is told how many tickets each chunk labelled."""
    for chunk in range(jobs.chunk_count(job_id)):
        while True:
            outcome = attempt_chunk(
                jobs, job_id, chunk, services=lambda: services, worker=this_process(), policy=policy
            )
            if outcome.retry_in is None:
                break
            sleep(outcome.retry_in)
        if outcome.error is not None:
            return
        if progress is not None:
            progress(outcome.tickets)


class ThreadRunner:
    """One background thread of this process that runs the jobs it is given, in the order given."""

    def __init__(self, jobs: JobStore, *, services: Services, policy: RetryPolicy) -> None:
        self._jobs, self._services, self._policy = jobs, services, policy
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job_id: str) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="copilot-jobs", daemon=True)
                self._thread.start()
        self._queue.put(job_id)

    def _loop(self) -> None:
        while True:
            job_id = self._queue.get()
            try:
                run_here(self._jobs, job_id, services=self._services, policy=self._policy)
            except Exception as exc:  # the store itself failed: say so on the job if it can still be written
                log.exception("job %s stopped", job_id)
                try:
                    self._jobs.fail(job_id, f"the job stopped: {describe(exc)}")
                except Exception:
                    log.exception("job %s could not be marked failed", job_id)
            finally:
                self._queue.task_done()
