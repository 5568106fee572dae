"""The Markdown summary: short enough to paste into a pull request."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from evals.report.formatting import (
    GATE_COLUMNS,
    GATE_NUMERIC,
    cases_text,
    failed_check_reasons,
    failure_count_text,
    gate_row,
    gate_summary,
    metric_names,
    metric_text,
    run_title,
)
from evals.results import EvalRun, SuiteResult

__all__ = ["render_markdown"]


def _cell(text: str) -> str:
    """Text made safe for one table cell or list line: a newline or a '|' would break the table."""
    return " ".join(text.split()).replace("|", "\\|")


def _table(columns: Sequence[str], rows: Iterable[Sequence[str]], numeric: frozenset[str]) -> list[str]:
    """A pipe table; the columns in `numeric` align right."""
    rule = ["---:" if column in numeric else "---" for column in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def _gate(run: EvalRun) -> list[str]:
    if not run.checks:
        return []
    lines = [f"**{gate_summary(run)}**", "", "## Gate", ""]
    lines += _table(GATE_COLUMNS, (gate_row(run, check) for check in run.checks), GATE_NUMERIC)
    reasons = failed_check_reasons(run)
    if reasons:
        lines += ["", *(f"- {_cell(reason)}" for reason in reasons)]
    return [*lines, ""]


def _suite(name: str, suite: SuiteResult) -> list[str]:
    rows = [(metric, metric_text(suite, metric)) for metric in metric_names(suite)]
    intro = f"{_cell(suite.dataset)} · {cases_text(suite.cases)}"
    return [f"## {_cell(name)}", "", intro, "", *_table(("metric", "value"), rows, frozenset({"value"})), ""]


def _failure_counts(run: EvalRun) -> list[str]:
    if not run.suites:
        return []
    lines = [f"- {_cell(name)}: {failure_count_text(suite)}" for name, suite in run.suites.items()]
    return ["## Failing cases", "", *lines, ""]


def render_markdown(run: EvalRun) -> str:
    """A compact summary: gate, metrics per suite, failing-case counts (never the cases themselves)."""
    lines = [f"# {run_title(run)}", "", *_gate(run)]
    for name, suite in run.suites.items():
        lines += _suite(name, suite)
    lines += _failure_counts(run)
    return "\n".join(lines).rstrip() + "\n"
