"""The gate: thresholds and regressions against the baseline fail a run, and say which and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from evals.results import EvalRun, SuiteResult
from evals.run.gate import compare, load_baseline, load_thresholds, write_baseline

pytestmark = pytest.mark.unit

NOT_MEASURED = "no case needs it"  # the reason every None metric of these runs gives


def a_run(**metrics: float | None) -> EvalRun:
    unmeasured = {name: NOT_MEASURED for name, value in metrics.items() if value is None}
    suite = SuiteResult(suite="reply", dataset="golden.jsonl", cases=10, metrics=metrics, unmeasured=unmeasured)
    return EvalRun(started_at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC), duration_seconds=1.0, suites={"reply": suite})


def thresholds(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "thresholds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_metric_past_its_threshold_fails_and_says_so(tmp_path: Path) -> None:
    limits = load_thresholds(thresholds(tmp_path, "reply:\n  action_accuracy: {min: 0.9}\n"))
    checks = compare(a_run(action_accuracy=0.85), baseline={}, thresholds=limits)
    assert [(c.metric, c.passed, c.why) for c in checks] == [
        ("action_accuracy", False, "0.85 is past the threshold >= 0.9")
    ]


def test_a_regression_beyond_tolerance_fails_and_within_it_passes(tmp_path: Path) -> None:
    limits = load_thresholds(thresholds(tmp_path, "reply:\n  action_accuracy: {min: 0.5, tolerance: 0.02}\n"))
    baseline = {"reply": {"action_accuracy": 0.90}}
    slipped = compare(a_run(action_accuracy=0.87), baseline=baseline, thresholds=limits)[0]
    assert not slipped.passed and slipped.delta == -0.03 and "regressed by 0.0300" in slipped.why
    assert compare(a_run(action_accuracy=0.89), baseline=baseline, thresholds=limits)[0].passed


def test_lower_is_better_for_a_max_threshold(tmp_path: Path) -> None:
    limits = load_thresholds(thresholds(tmp_path, "reply:\n  p95_ms: {max: 150, tolerance: 10}\n"))
    baseline = {"reply": {"p95_ms": 100.0}}
    assert compare(a_run(p95_ms=105.0), baseline=baseline, thresholds=limits)[0].passed
    assert not compare(a_run(p95_ms=120.0), baseline=baseline, thresholds=limits)[0].passed


def test_an_unmeasured_metric_with_a_threshold_fails(tmp_path: Path) -> None:
    limits = load_thresholds(thresholds(tmp_path, "reply:\n  action_accuracy: {min: 0.9}\n"))
    check = compare(a_run(action_accuracy=None), baseline={}, thresholds=limits)[0]
    assert not check.passed and check.why == f"not measured: {NOT_MEASURED}"
    missing = compare(a_run(), baseline={}, thresholds=limits)[0]
    assert not missing.passed and missing.why == "not measured"


def test_a_baseline_round_trips_and_shows_deltas_without_failing(tmp_path: Path) -> None:
    write_baseline(a_run(action_accuracy=0.8), tmp_path / "baseline.json")
    checks = compare(a_run(action_accuracy=0.85), baseline=load_baseline(tmp_path / "baseline.json"), thresholds={})
    assert [(c.delta, c.passed) for c in checks] == [(0.05, True)]


def test_a_bad_threshold_names_the_metric(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"reply\.action_accuracy: .*exactly one of min or max"):
        load_thresholds(thresholds(tmp_path, "reply:\n  action_accuracy: {tolerance: 0.1}\n"))
