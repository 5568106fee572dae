"""How far confidence is from accuracy: the expected calibration error."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

BINS = 15


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], *, bins: int = BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by the share in each bin."""
    conf, right = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float)
    if conf.size == 0:
        raise ValueError("no predictions to calibrate")
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in itertools.pairwise(edges):
        in_bin = (conf > low) & (conf <= high)
        if in_bin.any():
            error += in_bin.mean() * abs(right[in_bin].mean() - conf[in_bin].mean())
    return float(error)


def reliability_bins(
    confidences: Sequence[float], correct: Sequence[bool], *, bins: int = 10
) -> list[dict[str, float | int]]:
    """Per equal-width confidence bin with predictions: its bounds, mean confidence, accuracy and count."""
    conf, right = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float)
    out: list[dict[str, float | int]] = []
    for low, high in itertools.pairwise(np.linspace(0.0, 1.0, bins + 1)):
        in_bin = (conf > low) & (conf <= high)
        if in_bin.any():
            out.append(
                {
                    "lower": round(float(low), 2),
                    "upper": round(float(high), 2),
                    "confidence": round(float(conf[in_bin].mean()), 4),
                    "accuracy": round(float(right[in_bin].mean()), 4),
                    "count": int(in_bin.sum()),
                }
            )
    return out
