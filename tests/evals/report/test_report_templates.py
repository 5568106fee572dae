"""The HTML page comes from the package's templates: every value is text, wherever the report is rendered from."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from evals.report import render_html
from evals.results import ClassScores, Confusion, EvalRun, Failure, SuiteResult

pytestmark = pytest.mark.unit

HOSTILE = '<b onmouseover="x">&amp;\'</b>'


def hostile_run() -> EvalRun:
    """A run whose every free-text field (suite name, dataset, labels, failure text) carries markup."""
    suite = SuiteResult(
        suite=HOSTILE,
        dataset=HOSTILE,
        cases=3,
        metrics={"accuracy": 0.5},
        unmeasured={"faithfulness": HOSTILE},
        per_class=[ClassScores(label=HOSTILE, precision=0.5, recall=0.5, f1=0.5, support=3)],
        per_lob={HOSTILE: 0.5},
        per_lob_metric=HOSTILE,
        confusion=Confusion(labels=[HOSTILE, "other"], matrix=[[1, 1], [0, 1]]),
        failures=[Failure(case_id=HOSTILE, ticket=HOSTILE, output=HOSTILE, problems=[HOSTILE])],
    )
    return EvalRun(started_at=dt.datetime(2025, 5, 1, 14, 3), duration_seconds=2.0, suites={HOSTILE: suite})


def test_no_field_can_inject_markup() -> None:
    page = render_html(hostile_run())
    assert not re.search(r"<b[\s>]", page) and 'onmouseover="x"' not in page
    assert "&amp;amp;" in page  # the '&' of the text itself was escaped once, and shows as written


def test_the_templates_are_found_from_any_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    page = render_html(hostile_run())
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")


def test_a_run_without_checks_or_suites_says_so() -> None:
    page = render_html(EvalRun(started_at=dt.datetime(2025, 5, 1, 14, 3), duration_seconds=2.0, suites={}))
    assert "No gate checks: this run was not compared with a baseline." in page
    assert "<h2>Summary</h2>" in page and 'class="suite"' not in page
