"""Where the bench works: a temporary data dir, so that measuring never writes to the user's index, records or
models. What is expensive to make and is not being measured (the ONNX export, the start-up vector cache, the
triage model) is copied in from the configured data dir; what is missing is made there, outside every timing."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from copilot.domain.accounts import Actor, Role
from copilot.pipeline import ingest
from copilot.services import Services, build_services, load_triage_model
from copilot.settings import Settings
from copilot.triage.training import latest_artifact

COPIED_FOLDERS = ("onnx", "cache")  # the ONNX export of MiniLM, and the templates' start-up vectors
ENV_PREFIX = "COPILOT_"


@dataclass
class Workspace:
    root: Path  # the temporary folder; the data dir is in it
    settings: Settings  # the configured settings with every piece of data in the temporary folder
    notes: list[str] = field(default_factory=list)  # what the bench had to make, for the output to say

    def environment(self) -> dict[str, str]:
        """This process's environment with every COPILOT_* variable replaced by the workspace's settings: a
        `copilot` process started with it, in `root` (where no .env is), runs on exactly these settings."""
        inherited = {name: value for name, value in os.environ.items() if not name.startswith(ENV_PREFIX)}
        return inherited | settings_environment(self.settings)

    @contextmanager
    def serving(self) -> Iterator[tuple[Services, str]]:
        """The workspace's services with the triage model loaded (the default one trained first, and the output
        told so, when there was none to copy), and a service's API key for the processes started on the same data
        dir. The index is empty: the caller ingests the library (the bench times that). Nothing here is timed."""
        services = build_services(self.settings)
        try:
            self._load_model(services)
            _, key = services.accounts.create_key("copilot-bench", Role.SERVICE, by=Actor.system("bench"))
            yield services, key
        finally:
            services.store.close()

    def prepare_to_serve(self) -> str:
        """Ingest the library and return a service's API key: what `copilot serve --skip-ingest` needs here."""
        with self.serving() as (services, key):
            ingest(services)
        return key

    def _load_model(self, services: Services) -> None:
        if latest_artifact(self.settings.models_dir) is None:
            started = time.perf_counter()
            load_triage_model(services, train_if_missing=True)
            self.notes.append(
                f"no triage model to copy: trained the default one in the bench's temporary data dir "
                f"({time.perf_counter() - started:.0f} s, not timed; `copilot serve` or `copilot eval run` keeps one "
                "in the data dir)"
            )
        else:
            load_triage_model(services, train_if_missing=False)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The COPILOT_* variables that give these settings (a field left at None has no variable)."""
    environment = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        environment[ENV_PREFIX + name.upper()] = str(value)
    return environment


@contextmanager
def bench_workspace(configured: Settings) -> Iterator[Workspace]:
    """A temporary data dir prepared from the configured one, removed afterwards. The bench always measures the
    embedded stack (Chroma in-process, SQLite) with the local embedder and the template writer."""
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as folder:
        root = Path(folder)
        data = root / "data"
        data.mkdir()
        notes = [_copy(configured.data_dir / name, data / name) for name in COPIED_FOLDERS]
        _copy_model(configured, data / "models")
        settings = configured.model_copy(
            update={
                "data_dir": data,
                "chroma_path": None,
                "chroma_url": None,
                "database_url": None,
                "broker_url": None,
                "triage_model_path": None,  # the copy under data/models is the newest there
                "embedder": "local",
                "writer": "template",
            }
        )
        yield Workspace(root=root, settings=settings, notes=[note for note in notes if note])


def _copy(source: Path, target: Path) -> str | None:
    """Copy a folder if it is there; otherwise the note saying what happens instead."""
    if source.is_dir():
        shutil.copytree(source, target)
        return None
    if source.name == "onnx":
        return f"no ONNX export in {source}: MiniLM was exported in the bench's temporary data dir (not timed)"
    return None  # no start-up vectors yet: the warm-up embeds the templates, before any timing


def _copy_model(configured: Settings, models: Path) -> None:
    """Copy the configured (or newest) triage model, unless there is none or it was trained on another embedder
    than the local one the bench measures (the workspace then trains the default model)."""
    source = configured.triage_model_path or latest_artifact(configured.models_dir)
    if source is None or not source.is_dir() or configured.embedder != "local":
        return
    name = source.name if source.name.startswith("triage-") else f"triage-{source.name}"  # what latest_artifact finds
    shutil.copytree(source, models / name)
