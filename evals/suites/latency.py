"""Latency: p50 and p95 milliseconds of each stage of a suggestion, and of the whole, on this machine."""

from __future__ import annotations

import numpy as np

from copilot.pipeline import StageTimes
from evals.results import SuiteResult

STAGES = ("triage", "retrieval", "writing", "verification", "storing")


def latency_suite(times: list[StageTimes], *, dataset: str) -> SuiteResult:
    """Times of suggestions already made (the reply or latency pass), one StageTimes per ticket."""
    metrics: dict[str, float | None] = {}
    for stage in (*STAGES, "total"):
        ms = [1000 * (sum(t.values()) if stage == "total" else t.get(stage, 0.0)) for t in times]
        metrics[f"{stage}_p50_ms"] = round(float(np.percentile(ms, 50)), 1)
        metrics[f"{stage}_p95_ms"] = round(float(np.percentile(ms, 95)), 1)
    return SuiteResult(suite="latency", dataset=dataset, cases=len(times), metrics=metrics)
