"""What every command shares: the Settings built by the root command, services, and error reporting."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from copilot.services import Records, Services, build_services, load_triage_model, open_records
from copilot.settings import Settings
from copilot.store.database import storage_refused

console = Console(soft_wrap=True)  # a path or a summary stays on one line, for people and for scripts
errors = Console(stderr=True, soft_wrap=True)  # one error, one line, however long


@dataclass
class CliState:
    settings: Settings
    debug: bool = False
    _services: Services | None = field(default=None, repr=False)
    _records: Records | None = field(default=None, repr=False)

    def services(self, *, triage_model: bool = False, train_if_missing: bool = False, index: bool = False) -> Services:
        """The bundle, built once; `index` refuses an empty knowledge base, `triage_model` loads the model."""
        if self._services is None:
            self._services = build_services(self.settings)
        if index:
            self._services.require_index()
        if triage_model and self._services.classifier is None:
            load_triage_model(self._services, train_if_missing=train_if_missing)
        return self._services

    def records(self) -> Records:
        """The records database's stores alone, built once (the services' own when those are built): what a
        command that only reads or writes records needs, ready in a fraction of a second."""
        if self._services is not None:
            return self._services.records
        if self._records is None:
            self._records = open_records(self.settings)
        return self._records


def state(ctx: typer.Context) -> CliState:
    return ctx.ensure_object(CliState)


@contextmanager
def reported_errors(debug: bool) -> Iterator[None]:
    """Turn an expected failure into one clear line on stderr and exit 1; --debug shows the traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        if debug:
            raise
        message = _one_line(exc)
        errors.print(Text("error: ", style="red") + Text(message), highlight=False)
        sys.exit(1)


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else first["msg"]
    if storage_refused(exc):
        cause = str(getattr(exc, "orig", exc)).strip().splitlines()
        said = cause[0] if cause else type(exc).__name__
        return f"the records database cannot be written: {said} (is its disk full, or its data dir read-only?)"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
