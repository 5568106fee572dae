"""Corrected tickets as training data: what `copilot triage train` reads to learn from specialists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from copilot.domain.personal_data import redact
from copilot.domain.taxonomy import Taxonomy
from copilot.store.tickets import TicketStore


class CorrectedExample(BaseModel):
    """One line of the export (JSONL): train with `copilot triage train FILE --flags-column risk_flags`."""

    model_config = ConfigDict(frozen=True)

    text: str
    intent: str
    risk_flags: list[str]
    priority: str
    language: str
    ticket_id: str
    model_intent: str
    corrected_by: str
    corrected_at: dt.datetime


def corrected_examples(store: TicketStore, taxonomy: Taxonomy) -> Iterator[CorrectedExample]:
    """Each corrected ticket once, with the labels of its latest correction; personal data redacted, since
    training files travel further than the records do."""
    latest = {record.id: (record, correction) for record, correction in store.corrections()}
    for record, correction in latest.values():
        yield CorrectedExample(
            text=redact(record.text, taxonomy=taxonomy),
            intent=correction.new.intent,
            risk_flags=correction.new.risk_flags,
            priority=correction.new.priority,
            language=correction.new.language,
            ticket_id=record.id,
            model_intent=record.model_labels.intent,
            corrected_by=correction.actor,
            corrected_at=correction.at,
        )
