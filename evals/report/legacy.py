"""The eval report: a short Markdown summary for a pull request and a self-contained HTML page for QA leads.

Both render an `EvalRun`. The Markdown holds the gate (each checked metric against its limit and the baseline),
every suite's metrics and how many cases failed. The HTML page adds what lies behind the numbers: the per-class
scores, the confusion matrix, the reliability diagram, the risk-coverage curve, the per-LOB chart and every
failing case with the ticket and what the copilot produced.

The page opens offline: plots are matplotlib figures (built without pyplot, so no global state) embedded as PNG
data URIs, the styles are inline, all user text is escaped, and a content security policy forbids scripts.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from evals.results import Check, ClassScores, Confusion, CoveragePoint, EvalRun, Failure, ReliabilityBin, SuiteResult

__all__ = ["render_html", "render_markdown", "write_report"]

GATE_COLUMNS = ("suite", "metric", "value", "baseline", "delta", "limit", "result")
GATE_NUMERIC = frozenset({"value", "baseline", "delta"})
PLOT_DPI = 110
PLOT_LABEL_LIMIT = 40
BAR_COLOUR = "#4c72b0"
LINE_COLOUR = "#dd8452"


# Numbers and text as people read them.


def format_value(value: float | None) -> str:
    """A metric as shown: 'n/a' when unmeasurable, integral values as ints (186), rates and scores
    (under 1 in size) to 3 decimals, larger measures (milliseconds, words) to 1."""
    if value is None:
        return "n/a"
    if math.isfinite(value) and float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1:
        return f"{value:,.1f}"
    return f"{value:.3f}"


def format_delta(delta: float | None) -> str:
    """A change against the baseline, always signed: +0.012, -0.030, +5."""
    if delta is None:
        return "n/a"
    delta += 0.0  # turns -0.0 into 0.0
    if math.isfinite(delta) and float(delta).is_integer():
        return f"{int(delta):+,}"
    return f"{delta:+.3f}"


def format_duration(seconds: float) -> str:
    """'42.5 s' under a minute, else '3 min 7 s' or '1 h 2 min 5 s'."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    prefix = f"{hours} h " if hours else ""
    return f"{prefix}{minutes} min {secs} s"


def format_started(run: EvalRun) -> str:
    """The run's start as '2025-05-01 14:03 UTC' (no zone when the time is naive)."""
    started = run.started_at
    zone = started.tzname()
    text = started.strftime("%Y-%m-%d %H:%M")
    return f"{text} {zone}" if zone else text


def run_title(run: EvalRun) -> str:
    return f"Eval run {format_started(run)} (took {format_duration(run.duration_seconds)})"


def _checks_word(count: int) -> str:
    return "check" if count == 1 else "checks"


def gate_summary(run: EvalRun) -> str:
    """One line on the gate: whether it passed and how many checks failed."""
    failed, total = len(run.failed_checks), len(run.checks)
    verdict = "FAILED" if failed else "passed"
    return f"Gate {verdict}: {failed} of {total} {_checks_word(total)} failed."


# Rows shared by both renderings.


def metric_names(suite: SuiteResult) -> list[str]:
    """The suite's metrics in the runner's order, then the ones that were not run and have no entry."""
    return list(suite.metrics) + [name for name in suite.not_run if name not in suite.metrics]


def metric_text(suite: SuiteResult, name: str) -> str:
    """A metric's value, or why it was not measured: a metric that was not run never reads as a number."""
    if name in suite.not_run:
        return f"not run ({suite.not_run[name]})"
    return format_value(suite.metrics.get(name))


def check_value_text(run: EvalRun, check: Check) -> str:
    suite = run.suites.get(check.suite)
    if check.value is None and suite is not None and check.metric in suite.not_run:
        return metric_text(suite, check.metric)
    return format_value(check.value)


def result_text(check: Check) -> str:
    return "PASS" if check.passed else "FAIL"


def gate_row(run: EvalRun, check: Check) -> tuple[str, ...]:
    return (
        check.suite,
        check.metric,
        check_value_text(run, check),
        format_value(check.baseline),
        format_delta(check.delta),
        check.limit or "n/a",
        result_text(check),
    )


def failed_check_reasons(run: EvalRun) -> list[str]:
    """'suite / metric: why' for each failed check that says why."""
    return [f"{c.suite} / {c.metric}: {c.why}" for c in run.failed_checks if c.why]


def failure_count_text(suite: SuiteResult) -> str:
    return f"{len(suite.failures)} of {suite.cases:,} cases"


# Markdown.


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _md_table(columns: Sequence[str], rows: Iterable[Sequence[str]], numeric: frozenset[str]) -> list[str]:
    rule = ["---:" if column in numeric else "---" for column in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def _md_gate(run: EvalRun) -> list[str]:
    if not run.checks:
        return []
    lines = [f"**{gate_summary(run)}**", "", "## Gate", ""]
    lines += _md_table(GATE_COLUMNS, (gate_row(run, check) for check in run.checks), GATE_NUMERIC)
    reasons = failed_check_reasons(run)
    if reasons:
        lines += ["", *(f"- {_md_cell(reason)}" for reason in reasons)]
    return [*lines, ""]


def _md_suite(name: str, suite: SuiteResult) -> list[str]:
    rows = [(metric, metric_text(suite, metric)) for metric in metric_names(suite)]
    intro = f"{_md_cell(suite.dataset)} · {suite.cases:,} cases"
    return [f"## {_md_cell(name)}", "", intro, "", *_md_table(("metric", "value"), rows, frozenset({"value"})), ""]


def _md_failure_counts(run: EvalRun) -> list[str]:
    if not run.suites:
        return []
    lines = [f"- {_md_cell(name)}: {failure_count_text(suite)}" for name, suite in run.suites.items()]
    return ["## Failing cases", "", *lines, ""]


def render_markdown(run: EvalRun) -> str:
    """A compact summary to paste into a pull request: gate, metrics per suite, failing-case counts."""
    lines = [f"# {run_title(run)}", "", *_md_gate(run)]
    for name, suite in run.suites.items():
        lines += _md_suite(name, suite)
    lines += _md_failure_counts(run)
    return "\n".join(lines).rstrip() + "\n"


# Plots: each builds a Figure from one part of a suite.


def _plot_text(text: str) -> str:
    """A label matplotlib shows as written: '$' would start mathtext, and long labels crowd the axes."""
    short = text if len(text) <= PLOT_LABEL_LIMIT else text[: PLOT_LABEL_LIMIT - 1] + "…"
    return short.replace("$", r"\$")


def _png_data_uri(figure: Figure) -> str:
    """The figure as a PNG data URI; the figure is cleared afterwards to free its memory."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PLOT_DPI, metadata={"Software": None})
    figure.clear()
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


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
            colour = "white" if shares[row, column] > 0.6 else "#1f2328"
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
        axes.text(centre, 0.02, f"n={cases.count:,}", ha="center", va="bottom", fontsize=7, color="#1f2328")
    confidences, accuracies = [b.confidence for b in filled], [b.accuracy for b in filled]
    axes.plot(confidences, accuracies, "o", color=LINE_COLOUR, label="Mean confidence in bin")
    axes.plot([0, 1], [0, 1], "--", color="grey", label="Perfect calibration")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.12)
    axes.set_xlabel("Confidence")
    axes.set_ylabel("Accuracy")
    axes.set_title(f"Reliability: {_plot_text(suite_name)}")
    axes.legend(loc="upper left", fontsize=8)
    return figure


def _spread(points: Sequence[CoveragePoint], most: int) -> list[CoveragePoint]:
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
    top = max(risk)
    axes.set_xlim(0, 1.05)
    axes.set_ylim(0, max(0.05, top * 1.25))
    axes.set_xlabel("Coverage: share of tickets labelled automatically")
    axes.set_ylabel("Risk: error rate of those labels")
    axes.set_title(f"Risk vs coverage: {_plot_text(suite_name)}")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    return figure


def _value_axis_limits(values: Sequence[float]) -> tuple[float, float]:
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


# HTML.

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1f2328;
  line-height: 1.45; max-width: 1100px; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .65rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pass { color: #1a7f37; font-weight: 600; }
td.fail { color: #fff; background: #cf222e; font-weight: 600; }
td.not-run { color: #656d76; font-style: italic; }
.gate { font-weight: 600; padding: .5rem .8rem; border-radius: 6px; display: inline-block; }
.gate.passed { background: #dafbe1; color: #1a7f37; } .gate.failed { background: #ffebe9; color: #cf222e; }
.muted { color: #656d76; }
figure.plot { margin: 1rem 0 1.5rem; }
figure.plot img { max-width: 100%; height: auto; border: 1px solid #d0d7de; border-radius: 4px; }
figcaption { color: #656d76; font-size: .88rem; max-width: 720px; }
.failure { border: 1px solid #d0d7de; border-left: 4px solid #cf222e; border-radius: 4px; padding: .4rem 1rem .8rem;
  margin: .8rem 0; }
.failure h4 { margin: .4rem 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.failure h5 { margin: .6rem 0 .3rem; font-size: .85rem; color: #656d76; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
@media (max-width: 800px) { .pair { grid-template-columns: 1fr; } }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; border-radius: 4px; padding: .6rem;
  margin: 0; font-size: .85rem; }
"""

CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _td(text: str, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<td{attribute}>{_esc(text)}</td>"


def _html_table(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]]) -> str:
    """A table from (heading, css class) columns and rows of rendered <td> cells."""
    head = "".join(f'<th class="{css}">{_esc(name)}</th>' if css else f"<th>{_esc(name)}</th>" for name, css in columns)
    body = "\n".join(f"<tr>{''.join(cells)}</tr>" for cells in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def suite_anchor(index: int, name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"suite-{index}-{slug}" if slug else f"suite-{index}"


def _html_overview(run: EvalRun) -> str:
    columns = [("suite", ""), ("dataset", ""), ("cases", "num"), ("failing cases", "num")]
    rows = [
        [
            f'<td><a href="#{suite_anchor(index, name)}">{_esc(name)}</a></td>',
            _td(suite.dataset),
            _td(f"{suite.cases:,}", "num"),
            _td(f"{len(suite.failures):,}", "num"),
        ]
        for index, (name, suite) in enumerate(run.suites.items())
    ]
    return "<h2>Summary</h2>\n" + _html_table(columns, rows)


def _gate_cells(run: EvalRun, check: Check) -> list[str]:
    cells = []
    for column, text in zip(GATE_COLUMNS, gate_row(run, check), strict=True):
        css = "num" if column in GATE_NUMERIC else ""
        if column == "result":
            css = "pass" if check.passed else "fail"
        elif column == "value" and text.startswith("not run"):
            css = "not-run"
        cells.append(_td(text, css))
    return cells


def _html_gate(run: EvalRun) -> str:
    if not run.checks:
        return '<p class="muted">No gate checks: this run was not compared with a baseline.</p>'
    verdict = "failed" if run.failed_checks else "passed"
    columns = [(column, "num" if column in GATE_NUMERIC else "") for column in GATE_COLUMNS]
    parts = [
        f'<p class="gate {verdict}">{_esc(gate_summary(run))}</p>',
        "<h2>Gate</h2>",
        _html_table(columns, (_gate_cells(run, check) for check in run.checks)),
    ]
    reasons = failed_check_reasons(run)
    if reasons:
        parts.append("<ul>" + "".join(f"<li>{_esc(reason)}</li>" for reason in reasons) + "</ul>")
    return "\n".join(parts)


def _html_metrics(suite: SuiteResult) -> str:
    rows = [
        [_td(name), _td(metric_text(suite, name), "not-run" if name in suite.not_run else "num")]
        for name in metric_names(suite)
    ]
    return "<h3>Metrics</h3>\n" + _html_table([("metric", ""), ("value", "num")], rows)


def _class_row(scores: ClassScores) -> list[str]:
    numbers = (scores.precision, scores.recall, scores.f1)
    return [_td(scores.label), *(_td(format_value(n), "num") for n in numbers), _td(f"{scores.support:,}", "num")]


def _html_per_class(suite: SuiteResult) -> str:
    if not suite.per_class:
        return ""
    columns = [("label", ""), ("precision", "num"), ("recall", "num"), ("F1", "num"), ("support", "num")]
    rows = [_class_row(scores) for scores in suite.per_class]
    return "<h3>Per class</h3>\n" + _html_table(columns, rows)


def _html_figure(suite_name: str, kind: str, figure: Figure, alt: str, caption: str) -> str:
    return (
        '<figure class="plot">'
        f'<img src="{_png_data_uri(figure)}" alt="{_esc(alt)}" data-suite="{_esc(suite_name)}" data-plot="{kind}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _html_confusion(name: str, suite: SuiteResult) -> str:
    confusion = suite.confusion
    if confusion is None or not confusion.labels:
        return ""
    alt = f"Confusion matrix for {name}: {len(confusion.labels)} labels, true label by row, predicted by column."
    caption = (
        "Rows are the true label, columns what the copilot chose; the diagonal is correct. "
        "Numbers are case counts; colour is the share of the row's cases."
    )
    return _html_figure(name, "confusion", confusion_figure(name, confusion), alt, caption)


def _html_reliability(name: str, suite: SuiteResult) -> str:
    if not suite.reliability:
        return ""
    alt = f"Reliability diagram for {name}: accuracy against confidence in {len(suite.reliability)} bins."
    caption = (
        "Bars are the accuracy of the tickets in each confidence bin (n = tickets in the bin). "
        "Points below the dashed diagonal mean the copilot is more confident than it is right."
    )
    return _html_figure(name, "reliability", reliability_figure(name, suite.reliability), alt, caption)


def _html_risk_coverage(name: str, suite: SuiteResult) -> str:
    if not suite.risk_coverage:
        return ""
    alt = f"Risk-coverage curve for {name}: error rate against share of tickets labelled automatically."
    caption = (
        "Each point is a confidence threshold (the number beside it): raising it labels fewer tickets "
        "automatically (coverage) and should make fewer mistakes (risk)."
    )
    return _html_figure(name, "risk-coverage", risk_coverage_figure(name, suite.risk_coverage), alt, caption)


def _html_per_lob(name: str, suite: SuiteResult) -> str:
    if not suite.per_lob:
        return ""
    metric = suite.per_lob_metric or "headline metric"
    values = ", ".join(f"{lob} {format_value(value)}" for lob, value in suite.per_lob.items())
    alt = f"{metric} per LOB for {name}: {values}."
    caption = f"{metric} for each line of business, lowest at the top."
    return _html_figure(name, "per-lob", lob_figure(name, suite.per_lob, metric), alt, caption)


def _html_failure(failure: Failure) -> str:
    problems = "".join(f"<li>{_esc(problem)}</li>" for problem in failure.problems)
    return (
        '<article class="failure">'
        f"<h4>{_esc(failure.case_id)}</h4>"
        f'<ul class="problems">{problems}</ul>'
        '<div class="pair">'
        f"<div><h5>Ticket</h5><pre>{_esc(failure.ticket)}</pre></div>"
        f"<div><h5>Copilot output</h5><pre>{_esc(failure.output)}</pre></div>"
        "</div></article>"
    )


def _html_failures(anchor: str, suite: SuiteResult) -> str:
    heading = f"<h3>Failing cases ({failure_count_text(suite)})</h3>"
    if not suite.failures:
        items = '<p class="muted">No failing cases.</p>'
    else:
        items = "\n".join(_html_failure(failure) for failure in suite.failures)
    return f'<section class="failures" id="{anchor}-failures">\n{heading}\n{items}\n</section>'


def _html_suite(index: int, name: str, suite: SuiteResult) -> str:
    anchor = suite_anchor(index, name)
    parts = [
        f"<h2>{_esc(name)}</h2>",
        f'<p class="muted">{_esc(suite.dataset)} · {suite.cases:,} cases</p>',
        _html_metrics(suite),
        _html_per_class(suite),
        _html_confusion(name, suite),
        _html_reliability(name, suite),
        _html_risk_coverage(name, suite),
        _html_per_lob(name, suite),
        _html_failures(anchor, suite),
    ]
    body = "\n".join(part for part in parts if part)
    return f'<section class="suite" id="{anchor}">\n{body}\n</section>'


def _html_page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def render_html(run: EvalRun) -> str:
    """One self-contained page: summary, gate, and per suite its metrics, tables, plots and failing cases."""
    title = run_title(run)
    parts = [f"<h1>{_esc(title)}</h1>", _html_gate(run), _html_overview(run)]
    parts += [_html_suite(index, name, suite) for index, (name, suite) in enumerate(run.suites.items())]
    return _html_page(title, "\n".join(parts))


def write_report(run: EvalRun, out_dir: Path) -> dict[str, Path]:
    """Writes eval.json, summary.md and report.html into out_dir (created if missing) and returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "eval.json", "markdown": out_dir / "summary.md", "html": out_dir / "report.html"}
    paths["json"].write_text(run.model_dump_json(indent=2), encoding="utf-8")
    paths["markdown"].write_text(render_markdown(run), encoding="utf-8")
    paths["html"].write_text(render_html(run), encoding="utf-8")
    return paths
