"""Numbers and text as people read them, shared by the Markdown summary and the HTML page.

Every string a renderer shows about a run is made here, so both renderings say the same thing;
the renderers only lay these strings out (and escape them for their own format).
"""

from __future__ import annotations

import math

from evals.results import Check, EvalRun, SuiteResult

__all__ = [
    "GATE_COLUMNS",
    "GATE_NUMERIC",
    "cases_text",
    "failed_check_reasons",
    "failure_count_text",
    "format_count",
    "format_delta",
    "format_duration",
    "format_started",
    "format_value",
    "gate_row",
    "gate_summary",
    "metric_names",
    "metric_text",
    "run_title",
]

GATE_COLUMNS = ("suite", "metric", "value", "baseline", "delta", "limit", "result")
GATE_NUMERIC = frozenset({"value", "baseline", "delta"})


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


def format_count(count: int) -> str:
    """A count with thousands separators: 1,234."""
    return f"{count:,}"


def cases_text(count: int) -> str:
    """'186 cases'."""
    return f"{format_count(count)} cases"


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
    """'Eval run 2025-05-01 14:03 UTC (took 3 min 7 s)'."""
    return f"Eval run {format_started(run)} (took {format_duration(run.duration_seconds)})"


def gate_summary(run: EvalRun) -> str:
    """One line on the gate: whether it passed and how many checks failed."""
    failed, total = len(run.failed_checks), len(run.checks)
    verdict = "FAILED" if failed else "passed"
    noun = "check" if total == 1 else "checks"
    return f"Gate {verdict}: {failed} of {total} {noun} failed."


def metric_names(suite: SuiteResult) -> list[str]:
    """The suite's metrics in the runner's order, then the unmeasured ones that have no entry."""
    return list(suite.metrics) + [name for name in suite.unmeasured if name not in suite.metrics]


def metric_text(suite: SuiteResult, name: str) -> str:
    """A metric's value, or why it was not measured: an unmeasured metric never reads as a number."""
    if name in suite.unmeasured:
        return f"not measured ({suite.unmeasured[name]})"
    return format_value(suite.metrics.get(name))


def _check_value_text(run: EvalRun, check: Check) -> str:
    # A check on an unmeasured metric carries no value; say why instead of 'n/a'.
    suite = run.suites.get(check.suite)
    if check.value is None and suite is not None and check.metric in suite.unmeasured:
        return metric_text(suite, check.metric)
    return format_value(check.value)


def gate_row(run: EvalRun, check: Check) -> tuple[str, ...]:
    """A check's cells, in the order of GATE_COLUMNS."""
    return (
        check.suite,
        check.metric,
        _check_value_text(run, check),
        format_value(check.baseline),
        format_delta(check.delta),
        check.limit or "n/a",
        "PASS" if check.passed else "FAIL",
    )


def failed_check_reasons(run: EvalRun) -> list[str]:
    """'suite / metric: why' for each failed check that says why."""
    return [f"{c.suite} / {c.metric}: {c.why}" for c in run.failed_checks if c.why]


def failure_count_text(suite: SuiteResult) -> str:
    """'1 of 186 cases'."""
    return f"{len(suite.failures)} of {cases_text(suite.cases)}"
