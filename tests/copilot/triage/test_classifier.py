"""The trained classifier: useful on held-out tickets, saved and loaded as a checked artifact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.domain import Routing, Ticket
from copilot.services import Services
from copilot.triage import TriageModelError, triage
from copilot.triage.classifier import IntentClassifier
from copilot.triage.training import read_examples
from tests.factories import DATASETS_DIR

pytestmark = pytest.mark.integration


def test_the_default_model_labels_most_held_out_tickets_correctly(ready: Services) -> None:
    test = read_examples(DATASETS_DIR / "tickets" / "test.jsonl")
    predictions = ready.require_classifier().predict([e.text for e in test])
    accuracy = sum(p.intent == e.label for p, e in zip(predictions, test)) / len(test)
    assert accuracy >= 0.60, f"intent accuracy on the test split fell to {accuracy:.3f}"


def test_triage_gives_a_consistent_lob_and_the_artifact_metadata(ready: Services) -> None:
    ticket = Ticket(text="my withdrawal from last month still hasn't reached my bank, it's been 3 weeks")
    labels = triage(ticket, classifier=ready.require_classifier(), taxonomy=ready.taxonomy, thresholds=ready.thresholds)
    assert labels.intent == "payout_missing"
    assert labels.lob == ready.taxonomy.lob_of_intent[labels.intent] == "creator_rewards"
    assert labels.routing in {Routing.AUTO, Routing.SUGGEST}
    metadata = ready.require_classifier().metadata
    assert set(metadata) >= {"data_hash", "labels", "metrics", "thresholds", "created_at", "embedder"}


def test_the_alternatives_share_what_the_best_intent_leaves(ready: Services) -> None:
    texts = ["hello??", "my payout is late and also I cannot log in", "I lost my 2FA phone, how do I get in"]
    for prediction in ready.require_classifier().predict(texts):
        chances = [confidence for _, confidence in prediction.ranked]
        assert chances == sorted(chances, reverse=True)
        assert sum(chances) <= 1.0001
        if chances[0] < 0.95:  # an unsure best intent leaves room, and an agent sees where it went
            assert chances[1] > 0, prediction.ranked


def test_low_confidence_is_an_explicit_hand_off_to_humans(ready: Services) -> None:
    strict = type(ready.thresholds)(auto=1.0, suggest=1.0)
    labels = triage(
        Ticket(text="hello??"), classifier=ready.require_classifier(), taxonomy=ready.taxonomy, thresholds=strict
    )
    assert labels.routing is Routing.HUMAN


def test_a_saved_artifact_loads_and_predicts_the_same(ready: Services, tmp_path: Path) -> None:
    classifier = ready.require_classifier()
    folder = classifier.save(tmp_path / "copy")
    loaded = IntentClassifier.load(
        folder, embeddings=ready.embeddings, embedder_version=ready.embedder_version, labels=ready.taxonomy.labels
    )
    texts = ["can't log in, code never arrives", "my badge disappeared after I changed my username"]
    assert [p.intent for p in loaded.predict(texts)] == [p.intent for p in classifier.predict(texts)]


def test_a_corrupt_artifact_gives_a_clear_error(ready: Services, tmp_path: Path) -> None:
    folder = ready.require_classifier().save(tmp_path / "corrupt")
    (folder / "model.joblib").write_bytes(b"not a model")
    with pytest.raises(TriageModelError, match="corrupt"):
        IntentClassifier.load(
            folder, embeddings=ready.embeddings, embedder_version=ready.embedder_version, labels=ready.taxonomy.labels
        )


def test_an_artifact_for_other_labels_or_another_embedder_is_refused(ready: Services, tmp_path: Path) -> None:
    folder = ready.require_classifier().save(tmp_path / "mismatch")
    with pytest.raises(TriageModelError, match="but the service uses 'other-embedder'"):
        IntentClassifier.load(
            folder, embeddings=ready.embeddings, embedder_version="other-embedder", labels=ready.taxonomy.labels
        )
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["labels"].append("crypto_refund")
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(TriageModelError, match="labels not in the taxonomy: crypto_refund"):
        IntentClassifier.load(
            folder, embeddings=ready.embeddings, embedder_version=ready.embedder_version, labels=ready.taxonomy.labels
        )
