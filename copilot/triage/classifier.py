"""The intent classifier: sentence embeddings and word/char n-grams into a calibrated linear SVM.

The artifact is a folder holding the fitted model and a metadata.json (label set, data hash, metrics,
thresholds, embedder, created at), so a service can refuse an artifact that does not fit its taxonomy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from langchain_core.embeddings import Embeddings
from scipy import sparse
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from copilot.triage.flags import FlagDetector

ARTIFACT_FORMAT = 3
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


class TriageModelError(RuntimeError):
    """A triage artifact is missing, corrupt, or does not fit this taxonomy or embedder."""


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    ranked: list[tuple[str, float]]
    flags: list[str] = field(default_factory=list)  # risk flags the learned detector raised


class IntentClassifier:
    """Predicts an intent (or the out-of-scope label) with a calibrated probability per label.

    A linear SVM over sentence embeddings and word/char n-grams; its scores become probabilities
    through a softmax with one temperature, fitted on cross-validated scores of the training data.
    """

    def __init__(
        self,
        *,
        embeddings: Embeddings,
        metadata: dict[str, Any] | None = None,
        embedding_weight: float = 1.5,
        c: float = 0.5,
    ) -> None:
        self.embeddings = embeddings
        self.metadata: dict[str, Any] = metadata or {}
        self.embedding_weight = embedding_weight
        self._ngrams = FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
            ]
        )
        self._model = LinearSVC(C=c)
        self.temperature = 1.0
        self.flag_detector: FlagDetector | None = None

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self._model.classes_]

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "untrained"))

    def _features(self, texts: Sequence[str], *, fit: bool) -> sparse.csr_matrix:
        dense = np.asarray(self.embeddings.embed_documents(list(texts)), dtype=np.float32)
        grams = self._ngrams.fit_transform(texts) if fit else self._ngrams.transform(texts)
        return sparse.hstack([sparse.csr_matrix(dense * self.embedding_weight), grams]).tocsr()

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        flag_sets: Sequence[frozenset[str]] | None = None,
        flags: Sequence[str] = (),
    ) -> IntentClassifier:
        """Fit the intent model, and the flag detector when each text's risk flags are given."""
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two distinct labels")
        features, y = self._features(texts, fit=True), np.asarray(labels)
        self.temperature = _fit_temperature(self._model, features, y)
        self._model.fit(features, y)
        if flag_sets is not None:
            self.flag_detector = FlagDetector().fit(features, list(flag_sets), flags=list(flags))
        return self

    def _probabilities(self, features: sparse.csr_matrix) -> np.ndarray:
        scores = _two_columns(self._model.decision_function(features))
        return np.asarray(softmax(scores / self.temperature, axis=1))

    def predict(self, texts: Sequence[str], *, top: int = 3) -> list[Prediction]:
        """The best intents with calibrated probabilities, and the flags the detector raised."""
        features = self._features(texts, fit=False)
        flags = self.flag_detector.detect(features) if self.flag_detector else [[] for _ in texts]
        labels = self.labels
        out = []
        for row, raised in zip(self._probabilities(features), flags):
            order = np.argsort(row)[::-1][:top]
            ranked = [(labels[i], round(float(row[i]), 4)) for i in order]
            out.append(Prediction(intent=ranked[0][0], confidence=ranked[0][1], ranked=ranked, flags=raised))
        return out

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        parts = {"format": ARTIFACT_FORMAT, "ngrams": self._ngrams, "model": self._model}
        parts |= {"temperature": self.temperature, "embedding_weight": self.embedding_weight}
        parts |= {"flag_detector": self.flag_detector}
        joblib.dump(parts, folder / MODEL_FILE)
        (folder / METADATA_FILE).write_text(json.dumps(self.metadata, indent=2, sort_keys=True), encoding="utf-8")
        return folder

    @classmethod
    def load(
        cls, folder: Path, *, embeddings: Embeddings, embedder_version: str, labels: Sequence[str]
    ) -> IntentClassifier:
        """Load an artifact; raises TriageModelError if it is unreadable or made for other labels/embedder."""
        try:
            metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
            parts = joblib.load(folder / MODEL_FILE)
        except FileNotFoundError as exc:
            raise TriageModelError(f"{folder}: not a triage model artifact ({exc.filename} is missing)") from exc
        except Exception as exc:  # joblib/pickle raise many types for a damaged file
            raise TriageModelError(f"{folder}: the artifact is corrupt and cannot be loaded: {exc}") from exc
        found_format = parts.get("format") if isinstance(parts, dict) else None
        if found_format != ARTIFACT_FORMAT:
            raise TriageModelError(f"{folder}: artifact format {found_format!r} is not {ARTIFACT_FORMAT}")
        trained_with = metadata.get("embedder")
        if trained_with != embedder_version:
            raise TriageModelError(
                f"{folder}: trained with embedder {trained_with!r}, but the service uses {embedder_version!r}"
            )
        unknown = sorted(set(metadata.get("labels", [])) - set(labels))
        if unknown:
            raise TriageModelError(f"{folder}: labels not in the taxonomy: {', '.join(unknown)}; retrain the model")
        classifier = cls(embeddings=embeddings, metadata=metadata, embedding_weight=parts["embedding_weight"])
        classifier._ngrams, classifier._model = parts["ngrams"], parts["model"]
        classifier.temperature = parts["temperature"]
        classifier.flag_detector = parts["flag_detector"]
        return classifier


def _two_columns(scores: np.ndarray) -> np.ndarray:
    """SVM scores as one column per label, also for two labels (where sklearn gives one column)."""
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def _fit_temperature(model: LinearSVC, features: sparse.csr_matrix, y: np.ndarray) -> float:
    """The softmax temperature that best fits held-out scores (3-fold), so confidence means accuracy.

    With fewer than 3 examples of some label there is nothing to hold out: 1.0, uncalibrated.
    """
    _, counts = np.unique(y, return_counts=True)
    if counts.min() < 3:
        return 1.0
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores = _two_columns(cross_val_predict(model, features, y, cv=folds, method="decision_function"))
    truth = np.searchsorted(np.unique(y), y)

    def nll(temperature: float) -> float:
        return float(-log_softmax(scores / temperature, axis=1)[np.arange(len(truth)), truth].mean())

    return float(minimize_scalar(nll, bounds=(0.01, 10.0), method="bounded").x)


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


def new_version() -> str:
    return "triage-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
