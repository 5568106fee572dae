"""How long a specialist waits for a suggestion: triage, retrieval, writing, verification and storing of one
ticket, in a warm process on the embedded stack, ticket after ticket."""

from __future__ import annotations

from copilot.domain import Ticket
from copilot.pipeline import suggest, warm_up
from copilot.services import Services
from evals.speed.figures import seconds_each


def warm_for_suggestions(services: Services, texts: list[str]) -> None:
    """What a serving process has done before its first real ticket: the templates' vectors, the snapshot,
    the model's and runtime's first calls. The texts suggested here must not be timed afterwards (the embedder
    caches a ticket's vector, so a second suggestion of the same text is quicker than any real one)."""
    warm_up(services)
    for text in texts:
        suggest(Ticket(text=text), services=services)


def suggestion_seconds(services: Services, texts: list[str]) -> list[float]:
    """Seconds for each text's suggestion, stored as a pending draft, one after another."""
    return seconds_each(texts, lambda text: suggest(Ticket(text=text), services=services))
