"""How fast triage labels tickets: one at a time in a warm process, and in batches as a backlog is re-tagged."""

from __future__ import annotations

import itertools
import time

from copilot.domain import Ticket
from copilot.pipeline import triage_batch, triage_ticket
from copilot.services import Services
from copilot.triage.batch import CHUNK
from evals.speed.figures import seconds_each


def triage_throughput(
    services: Services, texts: list[str], *, at_least: int = 3000, at_least_seconds: float = 0.0
) -> float:
    """Tickets per second through the whole triage (classifier, flags, rules, language, sentiment), in batches of
    CHUNK as a backlog job sends them. The texts are repeated until at least `at_least` tickets and
    `at_least_seconds` have gone through (whole batches), so that a run is long enough to time."""
    if not texts:
        raise ValueError("no ticket texts to triage")
    tickets = itertools.cycle([Ticket(text=text) for text in texts])  # made before the clock starts
    done, started = 0, time.perf_counter()
    while done < at_least or time.perf_counter() - started < at_least_seconds:
        done += len(triage_batch(list(itertools.islice(tickets, CHUNK)), services=services))
    return round(done / (time.perf_counter() - started), 1)


def one_ticket_seconds(services: Services, texts: list[str]) -> list[float]:
    """Seconds to triage each text alone, one after another (the warm-up is the caller's)."""
    return seconds_each(texts, lambda text: triage_ticket(Ticket(text=text), services=services))
