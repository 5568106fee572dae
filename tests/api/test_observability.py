"""Logs: one line per request with its id and route template, the id returned to the caller, JSON lines on
request, and never a ticket's text, a reply, a password or a card number."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.middleware import REQUEST_ID_HEADER
from copilot.observability import HANDLER_NAME, OWN_LOGGERS, REQUEST_ID, RequestIdFilter, configure_logging
from copilot.services import Services
from tests.factories import make_settings

CARD = "4111 1111 1111 1111"
PASSWORD = "hunter2secret"
SECRET_TICKET = {
    "text": f"my payout never arrived. my card is {CARD} and password: {PASSWORD} if you need to log in",
    "creator_handle": "mila.bakes",
}


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record at DEBUG, from our loggers and every library's, stamped with the request id as our
    handler stamps them."""
    caplog.set_level(logging.DEBUG)
    for name in OWN_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    stamp = RequestIdFilter()
    caplog.handler.addFilter(stamp)
    yield caplog
    caplog.handler.removeFilter(stamp)


def server_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    # httpx is the test client's side of the conversation: it logs each URL it calls, query string and all,
    # as any HTTP client would. The service does not use it to answer.
    return [r for r in caplog.records if not r.name.startswith("httpx")]


@pytest.mark.integration
def test_no_ticket_text_password_or_card_number_reaches_the_logs(
    client: TestClient, logs: pytest.LogCaptureFixture
) -> None:
    assert client.post("/v1/triage", json=SECRET_TICKET).status_code == 200
    assert client.post("/v1/triage/batch", json={"tickets": [SECRET_TICKET, {"text": " "}]}).status_code == 200
    draft = client.post("/v1/suggest", json=SECRET_TICKET).json()
    edited = {"kind": "edit", "final_text": f"We never need {PASSWORD} or {CARD}."}
    assert client.post(f"/v1/drafts/{draft['id']}/decision", json=edited).status_code == 201
    assert client.get("/v1/kb/search", params={"q": f"{CARD} {PASSWORD}"}).status_code == 200
    assert client.post("/v1/suggest", json={"text": f"{PASSWORD} " * 10_000}).status_code == 413

    records = server_records(logs)
    assert len([r for r in records if r.name == "api.requests"]) == 6
    for record in records:
        logged = f"{record.getMessage()} {record.args!r} {vars(record)!r}"
        assert CARD not in logged and "4111" not in logged, record
        assert PASSWORD not in logged, record
        assert "payout never arrived" not in logged, record


@pytest.mark.integration
def test_each_request_is_one_line_with_its_id_route_template_status_and_duration(
    client: TestClient, logs: pytest.LogCaptureFixture
) -> None:
    draft = client.post("/v1/suggest", json=SECRET_TICKET, headers={REQUEST_ID_HEADER: "console-7.a_b-c"})
    assert draft.headers[REQUEST_ID_HEADER] == "console-7.a_b-c"
    logs.clear()
    read = client.get(f"/v1/drafts/{draft.json()['id']}")
    assert read.status_code == 200
    [line] = [r for r in logs.records if r.name == "api.requests"]
    assert line.request_id == read.headers[REQUEST_ID_HEADER]  # type: ignore[attr-defined]
    assert line.getMessage().startswith("GET /v1/drafts/{draft_id} 200 ")
    assert line.getMessage().endswith(" ms") and draft.json()["id"] not in line.getMessage()
    assert (line.method, line.route, line.status) == ("GET", "/v1/drafts/{draft_id}", 200)  # type: ignore[attr-defined]


@pytest.mark.integration
def test_a_request_id_is_kept_when_sane_and_replaced_when_not(client: TestClient) -> None:
    assert client.get("/v1/health", headers={REQUEST_ID_HEADER: "abc-123"}).headers[REQUEST_ID_HEADER] == "abc-123"
    for unusable in [b"has spaces", b"x" * 101, b"semi;colon", "ünïcode".encode()]:
        returned = client.get("/v1/health", headers={REQUEST_ID_HEADER: unusable}).headers[REQUEST_ID_HEADER]
        assert returned.encode() != unusable and len(returned) == 32
    first, second = (client.get("/v1/health").headers[REQUEST_ID_HEADER] for _ in range(2))
    assert first != second


@pytest.mark.integration
def test_an_unknown_path_is_logged_as_unmatched_not_as_the_callers_text(
    client: TestClient, logs: pytest.LogCaptureFixture
) -> None:
    assert client.get(f"/v1/{PASSWORD}/wp-admin").status_code == 404
    [line] = [r for r in logs.records if r.name == "api.requests"]
    assert line.getMessage().startswith("GET unmatched 404 ")


@pytest.mark.integration
def test_an_llm_writer_fallback_is_logged_with_the_request_id_and_the_cause_only(
    fallback_client: TestClient, logs: pytest.LogCaptureFixture
) -> None:
    answer = fallback_client.post("/v1/suggest", json=SECRET_TICKET, headers={REQUEST_ID_HEADER: "fallback-1"})
    assert answer.status_code == 201 and answer.json()["writer"] == "template"
    [fallback] = [r for r in logs.records if "fell back" in r.getMessage()]
    assert fallback.request_id == "fallback-1"  # type: ignore[attr-defined]
    assert fallback.getMessage() == "LLM writer fell back to the template writer: TimeoutError"


@pytest.mark.integration
def test_a_bug_is_a_500_that_still_carries_the_request_id(ready: Services, logs: pytest.LogCaptureFixture) -> None:
    app = create_app(services=ready)

    @app.get("/v1/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        answer = test_client.get("/v1/broken", headers={REQUEST_ID_HEADER: "bug-1"})
    assert (answer.status_code, answer.headers[REQUEST_ID_HEADER]) == (500, "bug-1")
    assert answer.json() == {"detail": "Internal Server Error"}
    [line] = [r for r in logs.records if r.name == "api.requests"]
    assert (line.levelname, line.getMessage().split()[:3]) == ("ERROR", ["GET", "/v1/broken", "500"])
    assert line.request_id == "bug-1"  # type: ignore[attr-defined]


# The handler configure_logging installs, with the lines it writes. Restores the logging set-up afterwards.


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in OWN_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, own_level in levels.items():
        logging.getLogger(name).setLevel(own_level)


def log_some_lines() -> None:
    token = REQUEST_ID.set("req-42")
    try:
        logging.getLogger("copilot.pipeline").info("SOP ingest: %d added", 3)
        logging.getLogger("api.requests").warning("two\nlines", extra={"route": "/v1/suggest", "status": 201})
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("copilot.services").exception("it failed")
    finally:
        REQUEST_ID.reset(token)
    logging.getLogger("copilot.services").info("outside a request")
    logging.getLogger("some_library").info("a library's chatter below WARNING")


@pytest.mark.unit
def test_json_mode_writes_one_json_object_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    configure_logging(make_settings(tmp_path, log_format="json"))
    log_some_lines()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 4, lines
    objects = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "request_id", "message"} <= set(o) for o in objects)
    assert [(o["level"], o["logger"], o["request_id"]) for o in objects] == [
        ("INFO", "copilot.pipeline", "req-42"),
        ("WARNING", "api.requests", "req-42"),
        ("ERROR", "copilot.services", "req-42"),
        ("INFO", "copilot.services", "-"),
    ]
    assert objects[0]["message"] == "SOP ingest: 3 added"
    assert (objects[1]["message"], objects[1]["route"], objects[1]["status"]) == ("two\nlines", "/v1/suggest", 201)
    assert "ValueError: boom" in objects[2]["exception"]


@pytest.mark.unit
def test_text_mode_writes_time_level_logger_request_id_and_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    configure_logging(make_settings(tmp_path, log_level="warning"))
    configure_logging(make_settings(tmp_path))  # a second call replaces the handler: each line once
    log_some_lines()
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.endswith(" INFO copilot.pipeline [req-42] SOP ingest: 3 added")
    assert first[:4].isdigit() and first[10] == "T" and first.split()[0].endswith("Z")
    assert err.count("SOP ingest") == 1 and "[-] outside a request" in err
    assert "Traceback" in err and "ValueError: boom" in err
    assert "chatter" not in err
    assert [h.get_name() for h in logging.getLogger().handlers].count(HANDLER_NAME) == 1
