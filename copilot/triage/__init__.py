"""Ticket triage: intent classifier, taxonomy rules, language, routing."""

from copilot.triage.classifier import IntentClassifier, TriageModelError
from copilot.triage.service import Thresholds, triage, triage_many

__all__ = ["IntentClassifier", "Thresholds", "TriageModelError", "triage", "triage_many"]
