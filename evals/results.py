"""What an eval run produces: per-suite metrics, the tables and curves behind them, and the failing cases.

The runner fills these; the report renders them; the gate compares their metrics with the baseline.
A metric is a number, or None when the data cannot measure it (say, no out-of-scope tickets).
Metrics that need something not configured (a judge model) are listed in `not_run` with the reason,
never reported as zero or as passed.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

Metric = float | None


class ClassScores(BaseModel):
    label: str
    precision: float
    recall: float
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
    not_run: dict[str, str] = Field(default_factory=dict, description="metric -> why it was not measured.")
    per_class: list[ClassScores] = Field(default_factory=list)
    per_lob: dict[str, float] = Field(default_factory=dict, description="The suite's headline metric per LOB.")
    per_lob_metric: str | None = None
    confusion: Confusion | None = None
    reliability: list[ReliabilityBin] = Field(default_factory=list)
    risk_coverage: list[CoveragePoint] = Field(default_factory=list)
    failures: list[Failure] = Field(default_factory=list)


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
