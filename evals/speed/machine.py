"""The machine a figure was measured on: what it is, how busy it was, and how fast it is today (the yardstick)."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from pydantic import BaseModel

from knowledge_base.embeddings import LocalMiniLMEmbeddings


class Machine(BaseModel):
    cpu_model: str
    cores: int
    python: str
    platform: str
    load_average_before: float | None  # 1-minute load average when the bench started
    load_average_after: float | None  # and when it ended: other work on a shared machine moves every figure


def describe_machine() -> Machine:
    return Machine(
        cpu_model=cpu_model(),
        cores=os.cpu_count() or 1,
        python=platform.python_version(),
        platform=platform.platform(),
        load_average_before=load_average(),
        load_average_after=None,
    )


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The first `model name` of /proc/cpuinfo (Linux); elsewhere what the platform module says."""
    try:
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def load_average() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def machine_yardstick(texts: list[str]) -> float:
    """Texts per second of plain MiniLM in sentence-transformers (PyTorch, batches of 32) on this machine
    now: the yardstick the team's figures are given against ("about 300 short texts/s on two cores"),
    so a throughput can be read apart from how fast the machine happens to be today."""
    return yardstick_runs(texts, runs=1)[0]


def yardstick_runs(texts: list[str], *, runs: int) -> list[float]:
    """The yardstick measured `runs` times on one loaded model. Measure it before any ONNX Runtime session
    exists in the process, so that no idle thread pool of another runtime competes for the cores."""
    model = LocalMiniLMEmbeddings(batch_size=32)
    model.embed_documents(texts[:32])  # load and warm up outside the timing
    measured = []
    for _ in range(runs):
        started = time.perf_counter()
        model.embed_documents(texts)
        measured.append(round(len(texts) / (time.perf_counter() - started), 1))
    return measured
