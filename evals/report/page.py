"""The HTML page: a view of the run built here, laid out by the Jinja2 templates in templates/.

Everything the page shows is a plain string made here or in `formatting`; the templates only place it, and
autoescaping makes all of it (ticket text, copilot output, labels, suite names) text, never markup. The page
opens offline: plots are PNG data URIs, the styles are inline, and its content security policy forbids scripts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from evals.report import plots
from evals.report.formatting import (
    GATE_COLUMNS,
    GATE_NUMERIC,
    cases_text,
    failed_check_reasons,
    failure_count_text,
    format_count,
    format_value,
    gate_row,
    gate_summary,
    metric_names,
    metric_text,
    run_title,
)
from evals.results import Check, EvalRun, Failure, SuiteResult

__all__ = ["render_html"]

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class Cell:
    """A table cell (or heading): its text, CSS class and, for a link, the href."""

    text: str
    css: str = ""
    href: str = ""


@dataclass(frozen=True)
class Table:
    columns: Sequence[Cell]
    rows: Sequence[Sequence[Cell]]


@dataclass(frozen=True)
class Plot:
    """A figure as an <img>: `src` is a PNG data URI, `kind` names the plot for tests and styles."""

    kind: str
    src: str
    alt: str
    caption: str


@dataclass(frozen=True)
class Gate:
    verdict: str  # "passed" or "failed", also the CSS class
    summary: str
    table: Table
    reasons: Sequence[str]


@dataclass(frozen=True)
class SuiteView:
    name: str
    anchor: str
    intro: str
    metrics: Table
    per_class: Table | None
    plots: Sequence[Plot]
    failures_heading: str
    failures: Sequence[Failure]


@functools.cache
def _environment() -> jinja2.Environment:
    """The templates, read from this package (wherever it is installed), escaping every value they print."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("evals.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the render instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def suite_anchor(index: int, name: str) -> str:
    """A fragment id unique in the page (the index) and readable (the name): 'suite-0-triage'."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"suite-{index}-{slug}" if slug else f"suite-{index}"


def _columns(names: Sequence[str], numeric: frozenset[str]) -> list[Cell]:
    return [Cell(name, "num" if name in numeric else "") for name in names]


def _gate_cell(column: str, text: str, check: Check) -> Cell:
    if column == "result":
        return Cell(text, "pass" if check.passed else "fail")
    if column == "value" and text.startswith("not measured"):
        return Cell(text, "not-run")
    return Cell(text, "num" if column in GATE_NUMERIC else "")


def _gate(run: EvalRun) -> Gate | None:
    """The gate's verdict, table and reasons; None when the run was not compared with a baseline."""
    if not run.checks:
        return None
    rows = [
        [_gate_cell(column, text, check) for column, text in zip(GATE_COLUMNS, gate_row(run, check), strict=True)]
        for check in run.checks
    ]
    return Gate(
        verdict="failed" if run.failed_checks else "passed",
        summary=gate_summary(run),
        table=Table(_columns(GATE_COLUMNS, GATE_NUMERIC), rows),
        reasons=failed_check_reasons(run),
    )


def _overview(run: EvalRun) -> Table:
    rows = [
        [
            Cell(name, href="#" + suite_anchor(index, name)),
            Cell(suite.dataset),
            Cell(format_count(suite.cases), "num"),
            Cell(format_count(len(suite.failures)), "num"),
        ]
        for index, (name, suite) in enumerate(run.suites.items())
    ]
    numeric = frozenset({"cases", "failing cases"})
    return Table(_columns(("suite", "dataset", "cases", "failing cases"), numeric), rows)


def _metrics(suite: SuiteResult) -> Table:
    rows = [
        [Cell(name), Cell(metric_text(suite, name), "not-run" if name in suite.unmeasured else "num")]
        for name in metric_names(suite)
    ]
    return Table(_columns(("metric", "value"), frozenset({"value"})), rows)


def _per_class(suite: SuiteResult) -> Table | None:
    if not suite.per_class:
        return None
    numeric = frozenset({"precision", "recall", "F1", "support"})
    rows = [
        [
            Cell(scores.label),
            *(Cell(format_value(number), "num") for number in (scores.precision, scores.recall, scores.f1)),
            Cell(format_count(scores.support), "num"),
        ]
        for scores in suite.per_class
    ]
    return Table(_columns(("label", "precision", "recall", "F1", "support"), numeric), rows)


def _confusion_plot(name: str, suite: SuiteResult) -> Plot | None:
    confusion = suite.confusion
    if confusion is None or not confusion.labels:
        return None
    return Plot(
        kind="confusion",
        src=plots.png_data_uri(plots.confusion_figure(name, confusion)),
        alt=f"Confusion matrix for {name}: {len(confusion.labels)} labels, true label by row, predicted by column.",
        caption="Rows are the true label, columns what the copilot chose; the diagonal is correct. "
        "Numbers are case counts; colour is the share of the row's cases.",
    )


def _reliability_plot(name: str, suite: SuiteResult) -> Plot | None:
    if not suite.reliability:
        return None
    return Plot(
        kind="reliability",
        src=plots.png_data_uri(plots.reliability_figure(name, suite.reliability)),
        alt=f"Reliability diagram for {name}: accuracy against confidence in {len(suite.reliability)} bins.",
        caption="Bars are the accuracy of the tickets in each confidence bin (n = tickets in the bin). "
        "Points below the dashed diagonal mean the copilot is more confident than it is right.",
    )


def _risk_coverage_plot(name: str, suite: SuiteResult) -> Plot | None:
    if not suite.risk_coverage:
        return None
    return Plot(
        kind="risk-coverage",
        src=plots.png_data_uri(plots.risk_coverage_figure(name, suite.risk_coverage)),
        alt=f"Risk-coverage curve for {name}: error rate against share of tickets labelled automatically.",
        caption="Each point is a confidence threshold (the number beside it): raising it labels fewer tickets "
        "automatically (coverage) and should make fewer mistakes (risk).",
    )


def _per_lob_plot(name: str, suite: SuiteResult) -> Plot | None:
    if not suite.per_lob:
        return None
    metric = suite.per_lob_metric or "headline metric"
    # The alt text carries the numbers too, so the chart reads without seeing it.
    values = ", ".join(f"{lob} {format_value(value)}" for lob, value in suite.per_lob.items())
    return Plot(
        kind="per-lob",
        src=plots.png_data_uri(plots.lob_figure(name, suite.per_lob, metric)),
        alt=f"{metric} per LOB for {name}: {values}.",
        caption=f"{metric} for each line of business, lowest at the top.",
    )


def _plots(name: str, suite: SuiteResult) -> list[Plot]:
    """The suite's plots in page order, leaving out each one the suite has no data for."""
    candidates = (_confusion_plot, _reliability_plot, _risk_coverage_plot, _per_lob_plot)
    return [plot for make in candidates if (plot := make(name, suite)) is not None]


def _suite(index: int, name: str, suite: SuiteResult) -> SuiteView:
    return SuiteView(
        name=name,
        anchor=suite_anchor(index, name),
        intro=f"{suite.dataset} · {cases_text(suite.cases)}",
        metrics=_metrics(suite),
        per_class=_per_class(suite),
        plots=_plots(name, suite),
        failures_heading=f"Failing cases ({failure_count_text(suite)})",
        failures=suite.failures,
    )


def render_html(run: EvalRun) -> str:
    """One self-contained page: gate, summary, and per suite its metrics, tables, plots and failing cases."""
    suites = [_suite(index, name, suite) for index, (name, suite) in enumerate(run.suites.items())]
    context = {"title": run_title(run), "gate": _gate(run), "overview": _overview(run), "suites": suites}
    return _environment().get_template(TEMPLATE).render(context)
