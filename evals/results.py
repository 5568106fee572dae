"""What an eval run produces: per-suite metrics, the tables and curves behind them, and the failing cases.

The runner fills these; the report renders them; the gate compares their metrics with the baseline.
A metric is a number, or None when the data cannot measure it (say, no out-of-scope tickets), never a
stand-in 1.0 or 0.0. Every None metric has its reason in `unmeasured`, and so do the metrics that need
something not configured (a judge model), which are listed there without a value.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, model_validator

Metric = float | None


class ClassScores(BaseModel):
    label: str
    precision: float | None = Field(description="None when the label was never predicted.")
    recall: float | None = Field(description="None when no case has the label (support 0).")
    f1: float
    support: int


class Confusion(BaseModel):
    labels: list[str]
    matrix: list[list[int]] = Field(description="matrix[i][j]: cases of labels[i] predicted as labels[j].")


class ReliabilityBin(BaseModel):
    lower: float
    upper: float
    confidence: float = Field(description="Mean confidence of the predictions in the bin.")
    accuracy: float
    count: int


class CoveragePoint(BaseModel):
    """A threshold at which at least one label is applied (a threshold that keeps none has no point)."""

    threshold: float
    coverage: float = Field(description="Share of tickets whose label is applied at this threshold.")
    risk: float = Field(description="Error rate of those applied labels.")


class Failure(BaseModel):
    """One case the copilot got wrong, with what it produced and each check it failed."""

    case_id: str
    ticket: str
    output: str = Field(description="What the copilot produced: a label, the retrieved ids, or the draft.")
    problems: list[str]


class SuiteResult(BaseModel):
    suite: str
    dataset: str = Field(description="The file (or files) measured.")
    cases: int
    metrics: dict[str, Metric]
    unmeasured: dict[str, str] = Field(default_factory=dict, description="metric -> why it was not measured.")
    per_class: list[ClassScores] = Field(default_factory=list)
    per_lob: dict[str, float] = Field(default_factory=dict, description="The suite's headline metric per LOB.")
    per_lob_metric: str | None = None
    confusion: Confusion | None = None
    reliability: list[ReliabilityBin] = Field(default_factory=list)
    risk_coverage: list[CoveragePoint] = Field(default_factory=list)
    failures: list[Failure] = Field(default_factory=list)

    @model_validator(mode="after")
    def _every_unmeasured_metric_says_why(self) -> SuiteResult:
        _check_reasons(self.suite, self.metrics, self.unmeasured)
        return self

    def add(self, measures: Measures) -> None:
        """Merge more metrics, with the reasons of those not measured, into the result."""
        self.metrics |= measures.metrics
        for name, value in measures.metrics.items():
            if value is not None:
                self.unmeasured.pop(name, None)
        self.unmeasured |= measures.unmeasured
        _check_reasons(self.suite, self.metrics, self.unmeasured)


class Measures:
    """Metrics as a suite gathers them: each a number, or None with the reason it could not be measured.

    `ratio` is the usual case: a share whose denominator may be zero (no out-of-scope tickets, no
    figures in any draft), which gives None and the reason instead of a stand-in 1.0 or 0.0.
    """

    def __init__(self) -> None:
        self.metrics: dict[str, Metric] = {}
        self.unmeasured: dict[str, str] = {}

    def put(self, name: str, value: float | None, *, reason: str = "") -> Metric:
        """Record a value; None needs the reason it was not measured."""
        if value is None and not reason:
            raise ValueError(f"metric {name!r} was not measured and no reason was given")
        self.metrics[name] = value
        if value is None:
            self.unmeasured[name] = reason
        else:
            self.unmeasured.pop(name, None)
        return value

    def ratio(self, name: str, numerator: float, denominator: float, *, reason: str, digits: int = 4) -> Metric:
        """numerator / denominator rounded, or None with the reason when the denominator is zero."""
        value = round(float(numerator / denominator), digits) if denominator else None
        return self.put(name, value, reason=reason)

    def skip(self, name: str, reason: str) -> None:
        """A metric not measured at all (say, nothing configured to measure it), listed without a value."""
        self.metrics.pop(name, None)
        self.unmeasured[name] = reason


def _check_reasons(suite: str, metrics: dict[str, Metric], unmeasured: dict[str, str]) -> None:
    unexplained = [name for name, value in metrics.items() if value is None and not unmeasured.get(name)]
    if unexplained:
        raise ValueError(
            f"suite {suite!r}: metric {', '.join(map(repr, unexplained))} is None without a reason in unmeasured"
        )


class Check(BaseModel):
    """One metric against its threshold and the baseline."""

    suite: str
    metric: str
    value: Metric
    baseline: Metric = None
    delta: Metric = None
    limit: str | None = Field(None, description="The threshold as written, e.g. '>= 0.90'.")
    passed: bool
    why: str = ""


class EvalRun(BaseModel):
    started_at: dt.datetime
    duration_seconds: float
    suites: dict[str, SuiteResult]
    checks: list[Check] = Field(default_factory=list, description="Filled when compared with a baseline.")

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]
