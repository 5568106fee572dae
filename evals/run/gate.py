"""The gate: each metric against its threshold and against the committed baseline.

evals/thresholds.yaml sets, per suite and metric, `min` or `max` (the level it must hold) and
`tolerance` (how far it may move the wrong way from the baseline). A metric with a threshold
fails when it is past its level, when it regressed beyond its tolerance, or when it could not be
measured (a gate does not pass what it did not see; the check says why it was not measured); every
other metric of the baseline is shown with its delta and passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from evals.results import Check, EvalRun, Metric

Baseline = dict[str, dict[str, Metric]]


class Limit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    tolerance: float | None = None

    @model_validator(mode="after")
    def _one_direction(self) -> Limit:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of min or max")
        return self

    def __str__(self) -> str:
        return f">= {self.min}" if self.min is not None else f"<= {self.max}"


Thresholds = dict[str, dict[str, Limit]]


def load_thresholds(path: Path) -> Thresholds:
    """Raises ValueError naming the file and the suite.metric at fault."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: Thresholds = {}
    for suite, metrics in raw.items():
        for metric, limit in (metrics or {}).items():
            try:
                out.setdefault(suite, {})[metric] = Limit.model_validate(limit)
            except ValidationError as exc:
                raise ValueError(f"{path}: {suite}.{metric}: {exc.errors()[0]['msg']}") from exc
    return out


def baseline_of(run: EvalRun) -> Baseline:
    return {name: dict(result.metrics) for name, result in run.suites.items()}


def load_baseline(path: Path) -> Baseline:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a baseline file ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a baseline maps each suite to its metrics")
    return data


def write_baseline(run: EvalRun, path: Path) -> None:
    path.write_text(json.dumps(baseline_of(run), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def compare(run: EvalRun, *, baseline: Baseline, thresholds: Thresholds) -> list[Check]:
    """One check per metric that has a threshold or a baseline value, for the suites that ran."""
    checks = []
    for suite, result in run.suites.items():
        limits, before = thresholds.get(suite, {}), baseline.get(suite, {})
        for metric in sorted(set(limits) | set(before)):
            value, base = result.metrics.get(metric), before.get(metric)
            checks.append(_check(suite, metric, value, base, limits.get(metric), result.unmeasured.get(metric)))
    return checks


def _check(
    suite: str, metric: str, value: Metric, base: Metric, limit: Limit | None, unmeasured: str | None = None
) -> Check:
    delta = round(value - base, 4) if value is not None and base is not None else None
    check = Check(
        suite=suite,
        metric=metric,
        value=value,
        baseline=base,
        delta=delta,
        limit=str(limit) if limit else None,
        passed=True,
    )
    if limit is None:
        return check
    if value is None:
        why = f"not measured: {unmeasured}" if unmeasured else "not measured"
        return check.model_copy(update={"passed": False, "why": why})
    if (limit.min is not None and value < limit.min) or (limit.max is not None and value > limit.max):
        return check.model_copy(update={"passed": False, "why": f"{value} is past the threshold {limit}"})
    worse = -delta if delta is not None and limit.min is not None else delta
    if limit.tolerance is not None and worse is not None and worse > limit.tolerance:
        why = f"regressed by {worse:.4f} from the baseline {base} (tolerance {limit.tolerance})"
        return check.model_copy(update={"passed": False, "why": why})
    return check
