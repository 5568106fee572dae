"""The intent classifier: sentence embeddings and word/char n-grams into a calibrated linear SVM.

Over the same features, two more heads when the training data labels them: the risk-flag detector,
and the needs-detail head, which tells a ticket that says too little for any SOP to answer it ("it's
broken again, fix it") so the copilot asks rather than guesses. Its threshold is learned like a flag's:
the lowest cross-validated score at which 9 in 10 tickets really say too little.

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
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from copilot.triage.flags import FlagDetector, fit_precise

ARTIFACT_FORMAT = 4
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
    needs_detail: bool = False  # the ticket says too little to answer
    detail_score: float | None = None  # the needs-detail head's probability; None: the model has no such head


class IntentClassifier:
    """Predicts an intent (or the out-of-scope label) with a calibrated probability per label.

    A linear SVM over sentence embeddings and word/char n-grams; its scores become probabilities
    through a softmax with one temperature, and those through an isotonic map from the best label's
    probability to how often the best label is right, both fitted on cross-validated scores of the
    training data (never on the dev or test split). One temperature fits how sure the model is on
    average; the map also fits where it is too sure, which one temperature cannot.
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
        self.calibrator: IsotonicRegression | None = None
        self.flag_detector: FlagDetector | None = None
        self.detail_model: LogisticRegression | None = None
        self.detail_threshold = 1.0

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self._model.classes_]

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "untrained"))

    def _features(self, texts: Sequence[str], *, fit: bool) -> sparse.csr_matrix:
        dense = np.asarray(self._embedded(texts), dtype=np.float32)
        grams = self._ngrams.fit_transform(texts) if fit else self._ngram_features(texts)
        return sparse.hstack([sparse.csr_matrix(dense * self.embedding_weight), grams]).tocsr()

    def _embedded(self, texts: Sequence[str]) -> list[list[float]]:
        """One ticket goes through `embed_query`: a batch of one is padded to nothing, so its vector is the same,
        and the service's embedder keeps it for the retrieval of the same ticket, which then embeds nothing."""
        if len(texts) == 1:
            return [self.embeddings.embed_query(texts[0])]
        return self.embeddings.embed_documents(list(texts))

    def _ngram_features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """What `self._ngrams.transform` gives, each part transformed here in turn. FeatureUnion.transform runs
        its parts through sklearn's joblib wrapper, which empties and refills the process-wide warning filters
        around every part (warnings.catch_warnings is not thread-safe before Python 3.14): requests triaged in
        several threads at once then lost filters, and logged sklearn's "delayed should be used with Parallel"
        warning, each time. A prediction must not touch process-wide state."""
        return sparse.hstack([part.transform(texts) for _, part in self._ngrams.transformer_list]).tocsr()

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        flag_sets: Sequence[frozenset[str]] | None = None,
        flags: Sequence[str] = (),
        needs_detail: Sequence[bool | None] | None = None,
    ) -> IntentClassifier:
        """Fit the intent model; the flag detector when each text's risk flags are given; the needs-detail
        head on the texts labelled for it (None: not labelled) when both answers have examples."""
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two distinct labels")
        features, y = self._features(texts, fit=True), np.asarray(labels)
        self.temperature, self.calibrator = _fit_calibration(self._model, features, y)
        self._model.fit(features, y)
        if flag_sets is not None:
            self.flag_detector = FlagDetector().fit(features, list(flag_sets), flags=list(flags))
        if needs_detail is not None and (fitted := _fit_detail(features, list(needs_detail))):
            self.detail_model, self.detail_threshold = fitted
        return self

    def _probabilities(self, features: sparse.csr_matrix) -> np.ndarray:
        scores = _two_columns(self._model.decision_function(features))
        return np.asarray(softmax(scores / self.temperature, axis=1))

    def predict(self, texts: Sequence[str], *, top: int = 3) -> list[Prediction]:
        """The best intents with calibrated probabilities, and the flags the detector raised."""
        features = self._features(texts, fit=False)
        flags = self.flag_detector.detect(features) if self.flag_detector else [[] for _ in texts]
        vague: list[float | None] = (
            [round(float(p), 4) for p in self.detail_model.predict_proba(features)[:, 1]]
            if self.detail_model
            else [None] * len(texts)
        )
        labels, probabilities = self.labels, self._probabilities(features)
        orders = np.argsort(probabilities, axis=1)[:, ::-1][:, :top]
        shown = np.take_along_axis(probabilities, orders, axis=1)
        if self.calibrator:
            shown = _calibrated(shown, self.calibrator)
        out = []
        for order, confidences, raised, detail in zip(orders, shown, flags, vague):
            ranked = [(labels[i], round(float(p), 4)) for i, p in zip(order, confidences)]
            out.append(
                Prediction(
                    intent=ranked[0][0],
                    confidence=ranked[0][1],
                    ranked=ranked,
                    flags=raised,
                    needs_detail=detail is not None and detail >= self.detail_threshold,
                    detail_score=detail,
                )
            )
        return out

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        parts = {"format": ARTIFACT_FORMAT, "ngrams": self._ngrams, "model": self._model}
        parts |= {"temperature": self.temperature, "calibrator": self.calibrator}
        parts |= {"embedding_weight": self.embedding_weight}
        parts |= {"flag_detector": self.flag_detector, "detail_model": self.detail_model}
        parts |= {"detail_threshold": self.detail_threshold}
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
        classifier.temperature, classifier.calibrator = parts["temperature"], parts["calibrator"]
        classifier.flag_detector = parts["flag_detector"]
        classifier.detail_model, classifier.detail_threshold = parts["detail_model"], parts["detail_threshold"]
        return classifier


def _two_columns(scores: np.ndarray) -> np.ndarray:
    """SVM scores as one column per label, also for two labels (where sklearn gives one column)."""
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def _fit_detail(features: sparse.csr_matrix, labels: list[bool | None]) -> tuple[LogisticRegression, float] | None:
    """The needs-detail head on the labelled rows, and its threshold (9 in 10 above it really say too little);
    None when either answer has fewer than 6 examples or no threshold is that precise."""
    rows = [i for i, label in enumerate(labels) if label is not None]
    y = np.array([bool(labels[i]) for i in rows])
    model = LogisticRegression(C=1.0, max_iter=3000)
    return fit_precise(model, features[rows], y, min_precision=0.9, min_each=6)


def _calibrated(ranked: np.ndarray, calibrator: IsotonicRegression) -> np.ndarray:
    """Calibrated probabilities of each row's best labels, best first. The map is fitted on the best
    label only, so it gives the best one's; the others share what is left (the chance that the best
    label is wrong) in proportion to their own, and never rank above the best. One call for the whole
    batch: a call per ticket costs more than the SVM."""
    best = calibrator.predict(ranked[:, 0])
    left = (1.0 - best) / np.clip(1.0 - ranked[:, 0], 1e-12, None)
    rest = np.minimum(ranked[:, 1:] * left[:, None], best[:, None])
    return np.column_stack([best, rest])


def _fit_calibration(
    model: LinearSVC, features: sparse.csr_matrix, y: np.ndarray
) -> tuple[float, IsotonicRegression | None]:
    """From held-out scores (3-fold): the softmax temperature that best fits them, then the isotonic map
    from the best label's probability to whether it was right, so that confidence means accuracy.

    With fewer than 3 examples of some label there is nothing to hold out: 1.0 and no map, uncalibrated.
    """
    _, counts = np.unique(y, return_counts=True)
    if counts.min() < 3:
        return 1.0, None
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores = _two_columns(cross_val_predict(model, features, y, cv=folds, method="decision_function"))
    truth = np.searchsorted(np.unique(y), y)

    def nll(temperature: float) -> float:
        return float(-log_softmax(scores / temperature, axis=1)[np.arange(len(truth)), truth].mean())

    temperature = float(minimize_scalar(nll, bounds=(0.01, 10.0), method="bounded").x)
    probabilities = softmax(scores / temperature, axis=1)
    right = probabilities.argmax(axis=1) == truth
    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    return temperature, calibrator.fit(probabilities.max(axis=1), right)


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


def new_version() -> str:
    return "triage-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
