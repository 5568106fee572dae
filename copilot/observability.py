"""Logging for both faces: one handler on stderr, plain text or JSON lines, every line with its request id.

Each face (the API's app factory, the CLI's root command) calls `configure_logging(settings)` once. The
request id lives in a context variable that the API's middleware sets for each request; a filter on the
handler copies it onto every record, whichever logger wrote it (a route, the LLM writer, uvicorn).
Log messages carry counts, labels, ids and versions: never ticket text, replies, passwords or keys.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

from copilot.settings import Settings

# The id of the request being served, or None outside a request (a CLI verb, start-up).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
NO_REQUEST = "-"

# Our own code logs at the configured level. Other libraries log warnings and errors only, whatever the
# level: some log request bodies at DEBUG (the OpenAI client logs the prompt, which holds the ticket).
OWN_LOGGERS = ("copilot", "api", "knowledge_base", "evals", "uvicorn")
HANDLER_NAME = "copilot-stderr"

# What `uvicorn.run` is given: keep the logging configure_logging set up, levels included (uvicorn's own
# set-up would replace it after the app is built), and no access log of uvicorn's, which shows raw paths
# and query strings (a search query is a ticket's words); the API's middleware logs each request instead.
UVICORN_LOGGING: dict[str, Any] = {"log_config": None, "access_log": False, "log_level": None}

# Attributes every LogRecord has; anything else on a record came from `extra=` and goes into the JSON
# (but not uvicorn's `color_message`, the message again with terminal colour codes).
_RECORD_ATTRIBUTES = {
    *vars(logging.LogRecord("", 0, "", 0, "", (), None)),
    *("message", "asctime", "request_id", "color_message"),
}


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (the current request's, or "-") to every record; drops none."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or NO_REQUEST
        return True


class _UtcTime(logging.Formatter):
    """Times in UTC, ISO 8601 with milliseconds: 2025-06-01T12:00:00.123Z."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(record.created))}.{int(record.msecs):03d}Z"


class TextFormatter(_UtcTime):
    """`2025-06-01T12:00:00.123Z INFO api.requests [3f2c...] POST /v1/suggest 201 84.2 ms`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


class JsonFormatter(_UtcTime):
    """One JSON object a line: time, level, logger, request_id, message, the record's extras, and the
    traceback as `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", NO_REQUEST),
            "message": record.getMessage(),
        }
        line |= {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is written, not when the handler was made (the CLI's test
    runner and pytest swap it), so a line never goes to a closed stream."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(settings: Settings) -> None:
    """Send log lines to stderr in `settings.log_format`, our loggers at `settings.log_level`.

    Calling it again replaces the handler it installed before (nothing else's). uvicorn's loggers write
    through the same handler, and its access log is off: the API's middleware logs each request once,
    with the route template instead of the raw path and query string.
    """
    handler = _StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    level = logging.getLevelNamesMapping()[settings.log_level]
    root.setLevel(max(level, logging.WARNING))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
