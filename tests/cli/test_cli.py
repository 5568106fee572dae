"""The `copilot` command line: every verb works, and errors are one clear line with a non-zero exit."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.services import Services
from tests.factories import SOP_DIR

runner = CliRunner()


@pytest.fixture
def env(ready: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """Point the CLI's own Settings at the session's ingested index and trained model."""
    monkeypatch.setenv("COPILOT_DATA_DIR", str(ready.settings.data_dir))
    monkeypatch.setenv("COPILOT_SOP_DIR", str(ready.settings.sop_dir))
    monkeypatch.setenv("COPILOT_DATASETS_DIR", str(ready.settings.datasets_dir))
    monkeypatch.setenv("COPILOT_TRAINING_DIR", str(ready.settings.training_dir))
    return ready


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.unit
def test_every_option_and_argument_has_help_text() -> None:
    def walk(command: click.Command, path: str) -> list[str]:
        missing = [f"{path} {p.name}" for p in command.params if not getattr(p, "help", None)]
        for name, sub in getattr(command, "commands", {}).items():
            missing += walk(sub, f"{path} {name}")
        return missing

    assert walk(typer.main.get_command(app), "copilot") == []


@pytest.mark.integration
def test_kb_search_shows_the_matching_sop(env: Services) -> None:
    code, out, _ = run("kb", "search", "my verified badge disappeared", "--k", "3")
    assert code == 0 and "SOP-VER-03" in out


@pytest.mark.integration
def test_triage_prints_the_labels_as_json(env: Services) -> None:
    code, out, _ = run("triage", "ticket", "i lost my phone with the authenticator app, can't log in")
    assert code == 0
    assert json.loads(out)["lob"] == "account_access"


@pytest.mark.integration
def test_suggest_then_decide_and_a_second_decision_is_one_line_error(env: Services) -> None:
    code, out, _ = run("suggest", "where is my payout? requested it 3 weeks ago", "--handle", "kai.films")
    assert code == 0
    draft = json.loads(out)
    assert draft["status"] == "pending"
    code, out, _ = run("decide", draft["id"], "approve", "--actor", "agent-3")
    assert code == 0 and json.loads(out)["to_status"] == "approved"
    code, out, err = run("decide", draft["id"], "reject", "--actor", "agent-4", "--reason", "tone")
    assert code == 1
    assert err.strip().count("\n") == 0 and "already approved" in err


@pytest.mark.integration
def test_unknown_draft_and_bad_decision_are_one_line_errors(env: Services) -> None:
    code, _, err = run("decide", "DRF-nope", "approve", "--actor", "agent-1")
    assert code == 1 and "no draft with id 'DRF-nope'" in err and "Traceback" not in err
    code, _, err = run("decide", "DRF-nope", "reject", "--actor", "agent-1")
    assert code == 1 and "needs a reason" in err


@pytest.mark.integration
def test_an_empty_ticket_is_refused(env: Services) -> None:
    code, _, err = run("suggest", "   ")
    assert code == 1 and "empty" in err


@pytest.mark.integration
def test_ingesting_a_malformed_sop_names_it_and_leaves_the_index_as_it_was(
    env: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "sop"
    shutil.copytree(SOP_DIR, broken)
    path = broken / "SOP-AS-03.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("lob: account_safety", "lob: nowhere", 1), encoding="utf-8"
    )
    monkeypatch.setenv("COPILOT_SOP_DIR", str(broken))
    before = env.index.count()
    code, _, err = run("kb", "ingest")
    assert code == 1 and "SOP-AS-03.md: lob: unknown LOB 'nowhere'" in err
    assert env.index.count() == before
    assert env.index.passages_of("SOP-AS-03")


@pytest.mark.integration
def test_train_on_a_csv_with_named_columns_writes_a_versioned_artifact(
    env: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [json.loads(line) for line in (env.settings.training_dir / "tickets.jsonl").read_text().splitlines()][:240]
    rows += [
        json.loads(line)
        for line in (env.settings.training_dir / "detail" / "needs_detail.jsonl").read_text().splitlines()
    ][:120]
    data = tmp_path / "history.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message", "label", "vague"])
        writer.writerows([r["text"], r["intent"], r["needs_detail"]] for r in rows)
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    args = ("triage", "train", str(data), "--text-column", "message", "--label-column", "label")
    code, _, err = run(*args, "--detail-column", "vague")
    assert code == 0, err
    [artifact] = (tmp_path / "data" / "models").iterdir()
    metadata = json.loads((artifact / "metadata.json").read_text())
    assert metadata["metrics"]["heldout_examples"] > 0 and metadata["data_hash"]
    assert 0 < metadata["metrics"]["needs_detail_examples"] < len(rows), "the held-out share is not trained on"
    code, _, err = run("triage", "train", str(data), "--text-column", "body")
    assert code == 1 and "no column 'body'" in err
    code, _, err = run(*args, "--detail-column", "label")
    assert code == 1 and "needs-detail must be true or false" in err


@pytest.mark.integration
def test_suggesting_from_an_empty_knowledge_base_says_to_ingest(
    env: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "empty"))
    code, _, err = run("kb", "search", "payout")
    assert code == 1 and "is empty; run `copilot kb ingest`" in err


@pytest.mark.integration
def test_validate_prints_counts_and_passes_on_the_shipped_datasets(env: Services) -> None:
    code, out, _ = run("eval", "validate")
    assert code == 0 and "by intent" in out and "datasets OK" in out


@pytest.mark.integration
def test_an_oversized_ticket_is_refused_with_the_limit(env: Services) -> None:
    code, _, err = run("suggest", "x" * 100_000)
    assert code == 1 and "the limit is 20000" in err


@pytest.mark.integration
def test_batch_tags_good_rows_and_reports_every_bad_one(env: Services, tmp_path: Path) -> None:
    source = tmp_path / "backlog.jsonl"
    source.write_text(
        '{"id": "A1", "text": "my withdrawal from last month still has not reached my bank"}\n'
        "this is not json\n"
        '{"id": "A3", "text": "   "}\n'
        '{"id": "A4", "text": "i lost my phone with the authenticator app and cannot log in"}\n'
        '{"id": "A5", "body": "no text column"}\n',
        encoding="utf-8",
    )
    target = tmp_path / "labels.csv"
    code, out, err = run("triage", "batch", str(source), str(target))
    assert code == 0 and "Tagged 2 tickets" in out and "skipped 3 bad rows" in out
    assert (
        "line 2: not valid JSON" in err and "line 3: ticket text is empty" in err and "line 5: no column 'text'" in err
    )
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["line"], r["id"]) for r in rows] == [("1", "A1"), ("4", "A4")]
    single = json.loads(run("triage", "ticket", "i lost my phone with the authenticator app and cannot log in")[1])
    assert (rows[1]["intent"], float(rows[1]["confidence"])) == (single["intent"], single["confidence"])


@pytest.mark.integration
def test_decided_drafts_export_and_become_golden_cases(env: Services, tmp_path: Path) -> None:
    code, out, _ = run("suggest", "my withdrawal from oct 3 still has not reached my bank account")
    draft = json.loads(out)
    assert run("decide", draft["id"], "approve", "--actor", "qa-1")[0] == 0
    export = tmp_path / "decided.jsonl"
    code, out, err = run("export-decisions", str(export))
    assert code == 0, err
    exported = {json.loads(line)["draft_id"]: json.loads(line) for line in export.read_text().splitlines()}
    assert exported[draft["id"]]["decision"] == "approved" and exported[draft["id"]]["final_text"] == draft["reply"]
    golden = tmp_path / "golden.jsonl"
    shutil.copy(env.settings.datasets_dir / "golden_replies.jsonl", golden)
    before = golden.read_text(encoding="utf-8")
    code, out, err = run("eval", "add-decided", str(export), "--golden", str(golden))
    assert code == 0, err
    after = golden.read_text(encoding="utf-8")
    assert after.startswith(before)
    added = [json.loads(line) for line in after[len(before) :].splitlines()]
    ours = next(c for c in added if c["text"] == draft["ticket_text"])
    assert ours["expected_action"] == draft["action"] and ours["expected_sop_ids"][0] == draft["citations"][0]["doc_id"]
    code, out, _ = run("eval", "add-decided", str(export), "--golden", str(golden))
    assert code == 0 and "0 cases added" in out and golden.read_text(encoding="utf-8") == after


@pytest.mark.integration
def test_eval_gate_fails_with_the_metric_and_writes_the_report(env: Services, tmp_path: Path) -> None:
    golden = tmp_path / "golden.jsonl"
    golden.write_text((env.settings.datasets_dir / "golden_replies.jsonl").read_text().splitlines()[0] + "\n")
    strict = tmp_path / "thresholds.yaml"
    strict.write_text("retrieval:\n  recall_at_5: {min: 1.01}\n")
    base = tmp_path / "baseline.json"
    args = ["eval", "run", "--suite", "retrieval", "--golden", str(golden), "--output-dir", str(tmp_path / "r")]
    code, out, err = run(*args, "--write-baseline", str(base))
    assert code == 0, err
    assert (tmp_path / "r" / "report.html").is_file() and "| recall_at_5 | 1 |" in out
    code, out, err = run(*args, "--gate", "--baseline", str(base), "--thresholds", str(strict))
    assert code == 1 and "gate: retrieval.recall_at_5: 1.0 is past the threshold >= 1.01" in err


@pytest.mark.integration
def test_benchmark_trains_on_a_public_file_and_prints_accuracy_and_speeds(env: Services, tmp_path: Path) -> None:
    banking77 = Path(__file__).resolve().parents[2] / "evals" / "benchmarks" / "banking77"
    for split, per_label in (("train", 12), ("test", 4)):
        with (banking77 / f"{split}.csv").open(encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r["category"] in ("card_arrival", "lost_or_stolen_card")]
        with (tmp_path / f"{split}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["query", "label"])
            for label in ("card_arrival", "lost_or_stolen_card"):
                writer.writerows([[r["text"], label] for r in rows if r["category"] == label][:per_label])
    files = ("--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"))
    code, out, err = run("eval", "benchmark", *files, "--text-column", "query", "--label-column", "label")
    assert code == 0, err
    figures = dict(re.findall(r"│ (\w+) +│ ([\d.]+) +│", out))
    assert float(figures["intent_accuracy"]) >= 0.75, "two easy labels apart"
    assert figures["train_examples"] == "24"
    for speed in ("batch_tickets", "full_triage_tickets", "yardstick_minilm_pytorch_texts"):
        assert float(figures[f"{speed}_per_second"]) > 0
    code, _, err = run("eval", "benchmark", *files, "--text-column", "body", "--label-column", "label")
    assert code == 1 and "no column 'body'" in err and "Traceback" not in err
