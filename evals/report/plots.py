"""The report's plots: each builds a matplotlib Figure from one part of a suite.

Figures are made with `Figure` directly, never pyplot, so nothing lands in matplotlib's global state and
rendering is safe in any thread and any backend. `png_data_uri` turns a figure into an <img> source the page
carries inline, so the page needs no other file.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from evals.report.formatting import format_value
from evals.results import Confusion, CoveragePoint, ReliabilityBin

__all__ = ["confusion_figure", "lob_figure", "png_data_uri", "reliability_figure", "risk_coverage_figure"]

PLOT_DPI = 110
PLOT_LABEL_LIMIT = 40
BAR_COLOUR = "#4c72b0"
LINE_COLOUR = "#dd8452"
TEXT_COLOUR = "#1f2328"


def png_data_uri(figure: Figure) -> str:
    """The figure as a PNG data URI; the figure is cleared afterwards to free its memory."""
    buffer = io.BytesIO()
    # No 'Software' entry: the same figure gives the same bytes whatever the matplotlib version.
    figure.savefig(buffer, format="png", dpi=PLOT_DPI, metadata={"Software": None})
    figure.clear()
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _plot_text(text: str) -> str:
    """A label matplotlib shows as written: '$' would start mathtext, and long labels crowd the axes."""
    short = text if len(text) <= PLOT_LABEL_LIMIT else text[: PLOT_LABEL_LIMIT - 1] + "…"
    return short.replace("$", r"\$")


def _tick_font_size(count: int) -> float:
    if count <= 12:
        return 9
    return 7 if count <= 24 else 6


def _row_shares(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its total: the share of a true label's cases in each column (0 for an empty row)."""
    totals = counts.sum(axis=1, keepdims=True)
    shares: np.ndarray = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return shares


def _annotate_counts(axes: Axes, counts: np.ndarray, shares: np.ndarray, size: float) -> None:
    for (row, column), count in np.ndenumerate(counts):
        if count:
            # White on the dark cells, where the default text colour would not read.
            colour = "white" if shares[row, column] > 0.6 else TEXT_COLOUR
            axes.text(column, row, f"{int(count)}", ha="center", va="center", fontsize=size, color=colour)


def confusion_figure(suite_name: str, confusion: Confusion) -> Figure:
    """Heatmap of true (rows) against predicted (columns) labels, coloured by the share of each true label."""
    labels = [_plot_text(label) for label in confusion.labels]
    counts = np.array(confusion.matrix, dtype=float)
    side = min(max(5.0, 0.3 * len(labels) + 3.0), 14.0)
    figure = Figure(figsize=(side + 1.2, side), layout="constrained")
    axes = figure.add_subplot()
    shares = _row_shares(counts)
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    size = _tick_font_size(len(labels))
    positions = list(range(len(labels)))
    axes.set_xticks(positions, labels, rotation=60, ha="right", rotation_mode="anchor", fontsize=size)
    axes.set_yticks(positions, labels, fontsize=size)
    _annotate_counts(axes, counts, shares, size)
    axes.set_xlabel("Predicted label")
    axes.set_ylabel("True label")
    axes.set_title(f"Confusion matrix: {_plot_text(suite_name)}")
    figure.colorbar(image, ax=axes, shrink=0.8, label="Share of the true label's cases")
    return figure


def reliability_figure(suite_name: str, bins: Sequence[ReliabilityBin]) -> Figure:
    """Accuracy per confidence bin as bars, each with its case count, against the diagonal of perfect calibration."""
    filled = [b for b in bins if b.count > 0]
    figure = Figure(figsize=(6.4, 4.6), layout="constrained")
    axes = figure.add_subplot()
    bars = axes.bar(
        [b.lower for b in filled],
        [b.accuracy for b in filled],
        width=[b.upper - b.lower for b in filled],
        align="edge",
        color=BAR_COLOUR,
        alpha=0.75,
        edgecolor="white",
        label="Accuracy in bin",
    )
    for bar, cases in zip(bars, filled, strict=True):
        centre = bar.get_x() + bar.get_width() / 2
        axes.text(centre, 0.02, f"n={cases.count:,}", ha="center", va="bottom", fontsize=7, color=TEXT_COLOUR)
    confidences, accuracies = [b.confidence for b in filled], [b.accuracy for b in filled]
    axes.plot(confidences, accuracies, "o", color=LINE_COLOUR, label="Mean confidence in bin")
    axes.plot([0, 1], [0, 1], "--", color="grey", label="Perfect calibration")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.12)  # headroom above 1 for the legend
    axes.set_xlabel("Confidence")
    axes.set_ylabel("Accuracy")
    axes.set_title(f"Reliability: {_plot_text(suite_name)}")
    axes.legend(loc="upper left", fontsize=8)
    return figure


def _spread(points: Sequence[CoveragePoint], most: int) -> list[CoveragePoint]:
    """At most about `most` points, evenly spaced: labelling every threshold would overprint."""
    step = max(1, math.ceil(len(points) / most))
    return list(points[::step])


def risk_coverage_figure(suite_name: str, points: Sequence[CoveragePoint]) -> Figure:
    """Error rate of the labels applied automatically against the share applied, one point per threshold."""
    ordered = sorted(points, key=lambda p: p.coverage)
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    axes = figure.add_subplot()
    coverage, risk = [p.coverage for p in ordered], [p.risk for p in ordered]
    label = "Confidence threshold (number beside each point)"
    axes.plot(coverage, risk, marker="o", markersize=4, color=BAR_COLOUR, label=label)
    for point in _spread(ordered, 8):
        axes.annotate(
            f"{point.threshold:.2f}",
            (point.coverage, point.risk),
            textcoords="offset points",
            xytext=(4, 5),
            fontsize=7,
        )
    axes.set_xlim(0, 1.05)
    axes.set_ylim(0, max(0.05, max(risk) * 1.25))
    axes.set_xlabel("Coverage: share of tickets labelled automatically")
    axes.set_ylabel("Risk: error rate of those labels")
    axes.set_title(f"Risk vs coverage: {_plot_text(suite_name)}")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    return figure


def _value_axis_limits(values: Sequence[float]) -> tuple[float, float]:
    """0 to just past 1 for rates; otherwise from 0 (or below the lowest negative) with room for the bar labels."""
    if all(0.0 <= v <= 1.0 for v in values):
        return 0.0, 1.15
    low, high = min(0.0, *values), max(0.0, *values)
    margin = (high - low) * 0.18 or 1.0
    return (low - margin if low < 0 else 0.0), high + margin


def lob_figure(suite_name: str, per_lob: dict[str, float], metric: str) -> Figure:
    """Horizontal bars of the suite's headline metric per LOB, the lowest on top."""
    ordered = sorted(per_lob.items(), key=lambda item: item[1], reverse=True)
    values = [value for _, value in ordered]
    figure = Figure(figsize=(7.2, max(2.4, 0.4 * len(ordered) + 1.3)), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(ordered)))
    bars = axes.barh(positions, values, color=BAR_COLOUR)
    axes.set_yticks(positions, [_plot_text(lob) for lob, _ in ordered], fontsize=8)
    axes.bar_label(bars, labels=[format_value(v) for v in values], padding=3, fontsize=8)
    axes.set_xlim(*_value_axis_limits(values))
    axes.set_xlabel(_plot_text(metric))
    axes.set_title(f"{_plot_text(metric)} per LOB: {_plot_text(suite_name)}")
    return figure
