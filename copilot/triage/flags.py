"""Learned risk-flag detection: one logistic regression per flag over the classifier's features.

Each flag's threshold is set on cross-validated scores of the training tickets: the lowest score at
which at least `min_precision` of the tickets above it really carry the flag, so the detector catches
as many as it can without flooding Tier 2 with false alarms. A flag no threshold gets that precise
for is left to the taxonomy's patterns, which always run beside the model (rules.py).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict


class FlagDetector:
    def __init__(self, *, min_precision: float = 0.9, min_positives: int = 6) -> None:
        if not 0 < min_precision <= 1:
            raise ValueError(f"min_precision must be in (0, 1], got {min_precision}")
        self.min_precision = min_precision
        self.min_positives = min_positives
        self.models: dict[str, LogisticRegression] = {}
        self.thresholds: dict[str, float] = {}

    @property
    def flags(self) -> list[str]:
        return list(self.models)

    def fit(self, features: sparse.csr_matrix, flag_sets: list[frozenset[str]], *, flags: list[str]) -> FlagDetector:
        """Learn every flag with at least `min_positives` examples; the others are left to the patterns."""
        for flag in flags:
            y = np.array([flag in s for s in flag_sets])
            model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000)
            fitted = fit_precise(model, features, y, min_precision=self.min_precision, min_each=self.min_positives)
            if fitted is not None:
                self.models[flag], self.thresholds[flag] = fitted
        return self

    def detect(self, features: sparse.csr_matrix) -> list[list[str]]:
        """The flags each row's score reaches, in the order the detector learned them."""
        if not self.models:
            return [[] for _ in range(features.shape[0])]
        weights, biases, thresholds = self._heads
        # Each head's probability, as its predict_proba gives it, for every flag in one sparse product: sklearn's
        # checks around a call cost more than a single ticket's arithmetic, once per flag.
        hits = expit(np.asarray(features @ weights) + biases) >= thresholds
        flags = self.flags
        return [[flag for flag, hit in zip(flags, row) if hit] for row in hits]

    @cached_property
    def _heads(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The learned heads side by side: weights (features x flags), biases and thresholds per flag."""
        models = list(self.models.values())
        weights = np.column_stack([model.coef_[0] for model in models])
        biases = np.array([model.intercept_[0] for model in models])
        return weights, biases, np.array([self.thresholds[flag] for flag in self.models])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_heads", None)  # derived from the models: an artifact keeps only what was fitted
        return state


def fit_precise(
    model: LogisticRegression, features: sparse.csr_matrix, y: np.ndarray, *, min_precision: float, min_each: int
) -> tuple[LogisticRegression, float] | None:
    """A binary head fitted on all rows, with its threshold: the lowest cross-validated (3-fold) score at
    which `min_precision` of the rows above it are positive. None when either answer has fewer than
    `min_each` examples or no threshold is that precise."""
    if y.sum() < min_each or (~y).sum() < min_each:
        return None
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    held_out = cross_val_predict(model, features, y, cv=folds, method="predict_proba")[:, 1]
    threshold = lowest_precise_threshold(held_out, y, min_precision)
    return (model.fit(features, y), threshold) if threshold is not None else None


def lowest_precise_threshold(scores: np.ndarray, truth: np.ndarray, min_precision: float) -> float | None:
    """The lowest score s such that, of the examples scoring >= s, at least min_precision are positive."""
    order = np.argsort(-scores)
    hits = np.cumsum(truth[order])
    precision = hits / np.arange(1, len(scores) + 1)
    precise = np.flatnonzero((precision >= min_precision) & truth[order])
    return float(scores[order][precise[-1]]) if precise.size else None
