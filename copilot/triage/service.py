"""triage(ticket) -> Triage: the classifier's intent, the taxonomy's rules, the routing decision."""

from __future__ import annotations

from dataclasses import dataclass

from copilot.domain import Routing, Ticket, Triage
from copilot.domain.taxonomy import Taxonomy
from copilot.triage.classifier import IntentClassifier, Prediction
from copilot.triage.language import detect_languages
from copilot.triage.rules import apply_rules
from copilot.triage.sentiment import sentiment_of


@dataclass(frozen=True)
class Thresholds:
    """Confidence at or above `auto` applies labels as-is; at or above `suggest` asks an agent."""

    auto: float
    suggest: float

    def routing(self, confidence: float) -> Routing:
        if confidence >= self.auto:
            return Routing.AUTO
        if confidence >= self.suggest:
            return Routing.SUGGEST
        return Routing.HUMAN


def triage(ticket: Ticket, *, classifier: IntentClassifier, taxonomy: Taxonomy, thresholds: Thresholds) -> Triage:
    """Label one ticket."""
    return triage_many([ticket], classifier=classifier, taxonomy=taxonomy, thresholds=thresholds)[0]


def triage_many(
    tickets: list[Ticket], *, classifier: IntentClassifier, taxonomy: Taxonomy, thresholds: Thresholds
) -> list[Triage]:
    """Label tickets in one batch (one embedding call): the same result as one by one."""
    if not tickets:
        return []
    texts = [t.text for t in tickets]
    predictions = classifier.predict(texts)
    languages = detect_languages(texts, supported=taxonomy.languages, fallback=taxonomy.fallback_language)
    return [
        _label(t, p, language, taxonomy=taxonomy, thresholds=thresholds, version=classifier.version)
        for t, p, language in zip(tickets, predictions, languages)
    ]


def _label(
    ticket: Ticket, prediction: Prediction, language: str, *, taxonomy: Taxonomy, thresholds: Thresholds, version: str
) -> Triage:
    routing = thresholds.routing(prediction.confidence)
    rules = apply_rules(
        ticket.text, prediction.intent, taxonomy, detected=prediction.flags, abstained=routing is Routing.HUMAN
    )
    sentiment, sentiment_score = sentiment_of(ticket.text)
    return Triage(
        ticket_id=ticket.id,
        lob=taxonomy.lob_of_intent[prediction.intent],
        intent=prediction.intent,
        confidence=prediction.confidence,
        routing=routing,
        priority=rules.priority,
        tier=rules.tier,
        risk_flags=rules.risk_flags,
        conditions=rules.conditions,
        language=language,
        sentiment=sentiment,
        sentiment_score=round(sentiment_score, 4),
        escalate=rules.escalate,
        queue=rules.queue,
        alternatives=prediction.ranked[1:],
        needs_detail=prediction.needs_detail,
        detail_score=prediction.detail_score,
        model_version=version,
    )
