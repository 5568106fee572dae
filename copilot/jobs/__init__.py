"""Backlog re-tagging jobs: a file of tickets planned into chunks, each chunk labelled by the pipeline as a
task (on Celery workers when a broker is configured, on a thread of this process otherwise), with state and
results in the records database (copilot/store/jobs.py)."""

from copilot.jobs.backlog import BacklogJobs, NoTickets

__all__ = ["BacklogJobs", "NoTickets"]
