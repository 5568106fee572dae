"""Backlog jobs without a broker: submitted through the real app, run on its background thread, followed and
read over HTTP; and the same from the `copilot` command, which runs the job in its own process."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from copilot.cli.main import app as cli_app
from copilot.domain import Ticket
from copilot.jobs.sample import sample_backlog
from copilot.pipeline import triage_ticket
from copilot.services import Services, build_services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import TRAINING_DIR, api_key, make_settings

pytestmark = pytest.mark.integration

WAIT_LIMIT_S = 300  # a bound on waiting, not a speed target: a busy CI machine is slow
BAD_ROWS = [
    (2, "this is not json", "not valid JSON"),
    (4, json.dumps({"id": "EMPTY", "text": "   "}), "ticket text is empty"),
    (6, json.dumps({"id": "LONG", "text": "y" * 30_000}), "the limit is 20000"),
    (8, json.dumps({"id": "NOTEXT", "body": "no text column"}), "no column 'text'"),
]


def backlog_lines(good: list[dict[str, str]]) -> list[str]:
    """The good rows as JSONL with the bad rows at their lines (1-based)."""
    lines = [json.dumps(row) for row in good]
    for line, text, _ in BAD_ROWS:
        lines.insert(line - 1, text)
    return lines


def wait_until_finished(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        status = client.get(f"/v1/triage/jobs/{job_id}").json()
        if status["status"] in ("done", "failed"):
            return status  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish within {WAIT_LIMIT_S} s: {status}")


def assert_same_as_one_by_one(results: list[dict[str, Any]], services: Services, *, every: int) -> None:
    for result in results[::every]:
        triage = result["triage"]
        ticket = Ticket(id=triage["ticket_id"], text=result["text"])
        alone = triage_ticket(ticket, services=services).model_dump(mode="json")
        assert triage == alone, f"line {result['line']}: the job's labels differ from one-by-one triage"


def test_a_job_labels_every_good_row_like_one_by_one_triage_and_lists_the_bad(
    client: TestClient, ready: Services
) -> None:
    good = sample_backlog(TRAINING_DIR, 450)  # three chunks of 200, 200 and 50
    lines = backlog_lines(good)
    upload = ("backlog.jsonl", "\n".join(lines).encode(), "application/x-ndjson")
    response = client.post("/v1/triage/jobs", files={"file": upload})
    assert response.status_code == 202, response.text
    queued = response.json()
    assert response.headers["location"] == f"/v1/triage/jobs/{queued['id']}"
    assert queued["progress"]["tickets_total"] == 450 and queued["progress"]["chunks_total"] == 3
    for skipped, (line, _, problem) in zip(queued["progress"]["skipped"], BAD_ROWS, strict=True):
        assert skipped["line"] == line and problem in skipped["problem"]

    status = wait_until_finished(client, queued["id"])
    assert status["status"] == "done", status["error"]
    assert status["progress"] | {"skipped": []} == {
        "chunks_total": 3,
        "chunks_done": 3,
        "tickets_total": 450,
        "tickets_done": 450,
        "skipped": [],
        "chunks_retried": 0,
        "retries": [],
    }
    body = client.get(f"/v1/triage/jobs/{queued['id']}/results").json()
    results = body["results"]
    assert [r["triage"]["ticket_id"] for r in results] == [row["id"] for row in good], "every ticket once, in order"
    good_lines = [n for n, text in enumerate(lines, start=1) if n not in {b[0] for b in BAD_ROWS}]
    assert [r["line"] for r in results] == good_lines
    texts = {row["id"]: row["text"] for row in good}
    assert_same_as_one_by_one([r | {"text": texts[r["triage"]["ticket_id"]]} for r in results], ready, every=15)


def test_a_file_the_job_cannot_use_is_refused_naming_the_problem(client: TestClient) -> None:
    wrong_type = client.post("/v1/triage/jobs", files={"file": ("backlog.xlsx", b"PK\x03\x04", "application/zip")})
    assert wrong_type.status_code == 422 and "expected a .jsonl or .csv file, got .xlsx" in wrong_type.json()["detail"]
    csv_text = b"message,ticket\nwhere is my payout,T-1\n"
    wrong_column = client.post("/v1/triage/jobs", files={"file": ("backlog.csv", csv_text, "text/csv")})
    assert wrong_column.status_code == 422
    assert wrong_column.json()["detail"] == "backlog.csv: no row is a ticket; line 2: no column 'text'"
    assert client.get("/v1/triage/jobs/JOB-missing").status_code == 404
    assert client.get("/v1/triage/jobs/JOB-missing/results").status_code == 404


def test_a_csv_job_reads_the_columns_it_is_told(client: TestClient) -> None:
    csv_text = b"ticket,message\nT-1,my withdrawal from last month still has not reached my bank\nT-2,   \n"
    response = client.post(
        "/v1/triage/jobs",
        files={"file": ("backlog.csv", csv_text, "text/csv")},
        data={"text_column": "message", "id_column": "ticket"},
    )
    assert response.status_code == 202, response.text
    status = wait_until_finished(client, response.json()["id"])
    assert status["status"] == "done" and status["progress"]["skipped"] == [
        {"line": 3, "problem": "ticket text is empty"}
    ]
    [result] = client.get(f"/v1/triage/jobs/{status['id']}/results").json()["results"]
    assert (result["line"], result["triage"]["ticket_id"]) == (2, "T-1")
    assert result["triage"]["intent"] == "payout_missing"


@pytest.fixture
def modelless(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> Iterator[TestClient]:
    """The app over services that never loaded a triage model: every chunk fails, for real."""
    settings = make_settings(tmp_path / "data", job_max_retries=2, job_retry_backoff_s=0.05)
    services = build_services(settings, embeddings=embeddings)
    app = create_app(settings, services=services)
    with TestClient(app, headers={"X-API-Key": api_key(services)}) as test_client:
        yield test_client
    services.store.close()


def test_a_chunk_that_keeps_failing_is_retried_then_fails_the_job_with_the_reason(modelless: TestClient) -> None:
    rows = sample_backlog(TRAINING_DIR, 3)
    upload = ("backlog.jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode(), "application/x-ndjson")
    job_id = modelless.post("/v1/triage/jobs", files={"file": upload}).json()["id"]
    status = wait_until_finished(modelless, job_id)
    assert status["status"] == "failed"
    assert status["error"].startswith("chunk 0 failed after 3 attempts: ")
    assert "no triage model is loaded; run `copilot triage train` first" in status["error"]
    [retried] = status["progress"]["retries"]
    assert retried["attempts"] == 3 and retried["status"] == "failed"
    assert [p.split(":")[0] for p in retried["problems"]] == [f"attempt {n} failed" for n in (1, 2, 3)]
    results = modelless.get(f"/v1/triage/jobs/{job_id}/results")
    assert results.status_code == 409 and "is failed" in results.json()["detail"]


runner = CliRunner()


def test_the_cli_runs_a_job_here_and_writes_the_same_rows_as_triage_batch(
    ready: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "DATA_DIR": ready.settings.data_dir,
        "SOP_DIR": ready.settings.sop_dir,
        "DATASETS_DIR": ready.settings.datasets_dir,
        "TRAINING_DIR": ready.settings.training_dir,
    }.items():
        monkeypatch.setenv(f"COPILOT_{name}", str(value))
    monkeypatch.delenv("COPILOT_BROKER_URL", raising=False)
    source = tmp_path / "backlog.jsonl"
    source.write_text("\n".join(backlog_lines(sample_backlog(TRAINING_DIR, 30))) + "\n", encoding="utf-8")

    submitted = runner.invoke(cli_app, ["triage", "job", str(source)])
    assert submitted.exit_code == 0, submitted.stderr
    job = json.loads(submitted.stdout)
    assert job["status"] == "done" and job["progress"]["tickets_done"] == 30
    assert "skipped backlog.jsonl line 2: not valid JSON" in submitted.stderr

    status = runner.invoke(cli_app, ["triage", "job-status", job["id"]])
    assert json.loads(status.stdout)["progress"] == job["progress"]
    from_job, from_batch = tmp_path / "job.csv", tmp_path / "batch.csv"
    written = runner.invoke(cli_app, ["triage", "job-results", job["id"], str(from_job)])
    assert written.exit_code == 0 and "30 tickets" in written.stdout
    assert runner.invoke(cli_app, ["triage", "batch", str(source), str(from_batch)]).exit_code == 0
    assert list(csv.DictReader(from_job.open())) == list(csv.DictReader(from_batch.open()))

    missing = runner.invoke(cli_app, ["triage", "job-results", "JOB-missing", str(tmp_path / "x.csv")])
    assert missing.exit_code == 1 and "no job with id 'JOB-missing'" in missing.stderr
