"""A speed figure: its value in each run, the median, the issue's target, and how it reads against the yardstick.

A figure on its own says as much about the machine as about the copilot. Read against the yardstick (plain
MiniLM's texts per second, measured in the same run) it says the same thing on a fast machine and a slow one:
a rate divided by the yardstick, or a time multiplied by it (how many texts plain MiniLM embeds meanwhile).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0}  # the time units a figure may have, to read it against the yardstick
Kind = Literal["rate", "time", "size"]  # a size (memory) is not read against the yardstick


class Target(BaseModel):
    """What issue 18 asks of a figure: `bound` the value, and a `goal` beyond it where the issue names one."""

    bound: Literal["<=", "<", ">="]
    value: float
    goal: float | None = None

    def __str__(self) -> str:
        sign = {"<=": "≤", "<": "<", ">=": "≥"}[self.bound]
        return f"{sign} {self.value:g}" + (f" (goal {self.goal:g})" if self.goal is not None else "")


class Figure(BaseModel):
    name: str = Field(description="Stable key, e.g. suggest_p95_ms.")
    title: str = Field(description="What was measured, in words.")
    unit: str
    kind: Kind
    runs: list[float] = Field(description="The value in each run, in order.")
    median: float
    target: Target | None = Field(description="None where the issue sets none (reported only).")
    vs_yardstick: float | None = Field(
        description="A rate divided by the yardstick's texts/s, or a time in seconds times it; None for a size."
    )


def figure(
    name: str, title: str, unit: str, kind: Kind, runs: Sequence[float], *, target: Target | None, yardstick: float
) -> Figure:
    """A figure from its runs, with its median read against the yardstick (texts per second)."""
    if not runs:
        raise ValueError(f"{name}: no run was measured")
    median = float(statistics.median(runs))
    if kind == "rate":
        versus: float | None = median / yardstick
    elif kind == "time":
        versus = median * SECONDS_PER_UNIT[unit] * yardstick
    else:
        versus = None
    return Figure(
        name=name,
        title=title,
        unit=unit,
        kind=kind,
        runs=[round(r, 3) for r in runs],
        median=round(median, 3),
        target=target,
        vs_yardstick=None if versus is None else round(versus, 3),
    )


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    """The q-th percentile of some timings in seconds, in milliseconds (linear interpolation, as the evals do)."""
    return float(np.percentile(np.asarray(seconds) * 1000.0, q))


def seconds_each(texts: Sequence[str], step: Callable[[str], object]) -> list[float]:
    """Seconds `step` takes for each text, one after another (the warm-up is the caller's)."""
    seconds = []
    for text in texts:
        started = time.perf_counter()
        step(text)
        seconds.append(time.perf_counter() - started)
    return seconds
