"""Writes a run's report files."""

from __future__ import annotations

from pathlib import Path

from evals.report.markdown import render_markdown
from evals.report.page import render_html
from evals.results import EvalRun

__all__ = ["write_report"]


def write_report(run: EvalRun, out_dir: Path) -> dict[str, Path]:
    """Writes eval.json, summary.md and report.html into out_dir (created if missing) and returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "eval.json", "markdown": out_dir / "summary.md", "html": out_dir / "report.html"}
    paths["json"].write_text(run.model_dump_json(indent=2), encoding="utf-8")
    paths["markdown"].write_text(render_markdown(run), encoding="utf-8")
    paths["html"].write_text(render_html(run), encoding="utf-8")
    return paths
