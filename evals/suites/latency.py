"""Latency: p50 and p95 milliseconds of each stage of a suggestion, and of the whole, on this machine."""

from __future__ import annotations

import numpy as np

from copilot.pipeline import StageTimes
from evals.results import Measures, SuiteResult

STAGES = ("triage", "retrieval", "writing", "verification", "storing")


def latency_suite(times: list[StageTimes], *, dataset: str) -> SuiteResult:
    """Times of suggestions already made (the reply or latency pass), one StageTimes per ticket; a stage
    is measured over the suggestions that went through it."""
    m = Measures()
    for stage in (*STAGES, "total"):
        if stage == "total":
            ms = [1000 * sum(t.values()) for t in times]
        else:
            ms = [1000 * t[stage] for t in times if stage in t]
        reason = f"no suggestion went through {stage}" if times else "no suggestions were timed"
        for q in (50, 95):
            m.put(f"{stage}_p{q}_ms", round(float(np.percentile(ms, q)), 1) if ms else None, reason=reason)
    return SuiteResult(suite="latency", dataset=dataset, cases=len(times), metrics=m.metrics, unmeasured=m.unmeasured)
