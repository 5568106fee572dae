"""`copilot kb docs|revise|diff|publish|discard|rollback|retire` on services of their own over a copy of part of the
SOP library: what a writer at the shell sees, and one clear line with exit 1 when a rule refuses a step."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.domain.records import AuditAction
from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import workbench_services

pytestmark = pytest.mark.integration

runner = CliRunner()


@pytest.fixture
def bench(tmp_path: Path, embeddings: LocalMiniLMEmbeddings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The bench's folders as the CLI's own Settings (with the session's ONNX export, so nothing is exported again)."""
    services = workbench_services(tmp_path, embeddings)
    assert embeddings.onnx_dir is not None
    shutil.copytree(embeddings.onnx_dir, services.settings.data_dir / "onnx")
    monkeypatch.setenv("COPILOT_DATA_DIR", str(services.settings.data_dir))
    monkeypatch.setenv("COPILOT_SOP_DIR", str(services.settings.sop_dir))
    yield services
    services.store.close()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_writer_revises_diffs_publishes_rolls_back_and_retires_from_the_shell(
    bench: Services, tmp_path: Path
) -> None:
    code, out, _ = run("kb", "docs")
    assert code == 0
    assert "SOP-CR-03  1.0.2  payments-ops  active  effective 2026-09-01  reviewed never  drafts 0  " in out
    original = (bench.settings.sop_dir / "SOP-CR-03.md").read_text(encoding="utf-8")
    edited = tmp_path / "SOP-CR-03.md"
    edited.write_text(original.replace("tier: T1", "tier: T9"), encoding="utf-8")

    code, out, err = run("kb", "revise", "SOP-CR-03", str(edited), "--actor", "sol")
    assert code == 1 and "line 12: tier: unknown tier 'T9'" in out and err.startswith("error: SOP-CR-03:")

    edited.write_text(original.replace("version: 1.0.2", "version: 1.1.0"), encoding="utf-8")
    code, out, _ = run("kb", "revise", "SOP-CR-03", str(edited), "--actor", "sol")
    assert code == 0 and "Saved draft revision 1 of SOP-CR-03" in out
    code, out, _ = run("kb", "diff", "1")
    assert code == 0 and "-version: 1.0.2" in out and "+version: 1.1.0" in out

    code, _, err = run("kb", "publish", "1", "--actor", "sol")
    assert code == 1 and "impact preview has not been run" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run("kb", "publish", "1", "--override", "wording only", "--actor", "sol")
    assert code == 0 and "Published SOP-CR-03 1.1.0 (was 1.0.2)" in out
    code, out, _ = run("kb", "rollback", "SOP-CR-03", "1.0.2", "--actor", "sol")
    assert code == 0 and "Published SOP-CR-03 1.1.1 (was 1.1.0)" in out

    code, out, err = run("kb", "retire", "SOP-CR-05", "--actor", "sol")
    assert code == 1 and "referred to by SOP-CR-03" in out and "confirm to retire it anyway" in err
    code, out, _ = run("kb", "retire", "SOP-CR-05", "--yes", "--actor", "sol")
    assert code == 0 and "Published SOP-CR-05 1.0.1" in out
    assert [e.actor for e in bench.audit.entries(action=AuditAction.SOP_RETIRED)] == ["sol"]


def test_a_draft_is_discarded_and_an_unknown_revision_is_one_line(bench: Services, tmp_path: Path) -> None:
    edited = tmp_path / "SOP-CR-04.md"
    text = (bench.settings.sop_dir / "SOP-CR-04.md").read_text(encoding="utf-8")
    edited.write_text(text.replace("version: 1.0.0", "version: 1.0.1"), encoding="utf-8")
    assert run("kb", "revise", "SOP-CR-04", str(edited), "--actor", "sol")[0] == 0

    code, out, _ = run("kb", "discard", "1", "--actor", "sol")
    assert code == 0 and "Discarded revision 1 of SOP-CR-04." in out
    code, _, err = run("kb", "publish", "1", "--override", "x", "--actor", "sol")
    assert code == 1 and "is discarded, not a draft" in err
    code, _, err = run("kb", "diff", "42")
    assert code == 1 and err.strip() == "error: no SOP revision with id 42"
