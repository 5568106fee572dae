"""Back up and restore the embedded setup as one tar.gz archive.

The archive holds, every path relative and every file's sha256 listed in the manifest:

    manifest.json     what is inside, the versions it was made with, when, by which copilot
    data/copilot.db   the drafts and their decisions (SQLite's online backup: consistent under a running server)
    data/chroma/      the Chroma index folder (its chroma.sqlite3 by the same online backup, then its HNSW files)
    data/models/      the triage model artifacts
    sop/              the SOP library the index was built from, with taxonomy.yaml

The index is copied consistently only while no ingest runs: Chroma's HNSW files are plain files. An ingest
that changes the collection during the copy is noticed (its contents are read before and after) and the
backup refused. A restore goes into an empty data dir and SOP dir, through temp dirs beside them that are
renamed into place, so it never leaves a half-restored folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import IO, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url

from copilot.settings import Settings
from copilot.store.tables import drafts as drafts_table
from copilot.store.tables import transitions as transitions_table
from knowledge_base.index import chroma_client

FORMAT = "copilot-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATA, SOP = "data", "sop"
DATABASE_FILE, CHROMA_DIR, MODELS_DIR = "copilot.db", "chroma", "models"  # the default layout of a data dir
CHROMA_SQLITE = "chroma.sqlite3"
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what would work."""


class DatabaseContents(BaseModel):
    drafts: int
    decisions: int


class IndexContents(BaseModel):
    collection: str
    chunks: int
    documents: dict[str, str]  # doc id -> the version the index holds
    fingerprint: str | None  # the collection's metadata stamp of the library it was synced from


class Manifest(BaseModel):
    """manifest.json: what an archive holds and what made it."""

    format: Literal["copilot-backup"] = "copilot-backup"
    format_version: int = FORMAT_VERSION
    created_at: dt.datetime
    copilot_version: str
    versions: dict[str, str]  # python, chromadb, sqlite
    database: DatabaseContents | None
    index: IndexContents | None
    triage_models: list[str]
    sop_files: list[str]
    files: dict[str, str]  # archive path -> sha256 of every file but the manifest

    def summary(self) -> str:
        records = (
            f"{self.database.drafts} drafts, {self.database.decisions} decisions" if self.database else "no records"
        )
        index = f"{self.index.chunks} passages of {len(self.index.documents)} SOPs" if self.index else "no index"
        models = ", ".join(self.triage_models) or "none"
        return f"{records}; {index}; triage models: {models}; {len(self.sop_files)} SOP library files"


def back_up(settings: Settings, out: Path, *, force: bool = False) -> Manifest:
    """Write the embedded setup of these settings to the archive `out`; return its manifest.

    Raises BackupError for a setup that is not embedded (a Chroma server, a non-SQLite database), a missing
    data dir, an existing `out` without `force`, or an ingest that ran during the copy.
    """
    database = embedded_database(settings)
    if settings.chroma_url:
        raise BackupError(
            f"the index is on a Chroma server ({settings.chroma_url}); back it up with that server's own tools "
            "(copy its --path folder while it is stopped)"
        )
    if not settings.data_dir.is_dir():
        raise BackupError(f"nothing to back up: data dir {settings.data_dir} does not exist")
    if not settings.sop_dir.is_dir():
        raise BackupError(f"SOP dir {settings.sop_dir} does not exist; set COPILOT_SOP_DIR to the library")
    if out.exists() and not force:
        raise BackupError(f"{out} already exists; choose another name or pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".copilot-backup-", dir=out.parent) as tmp:
        stage = Path(tmp) / "stage"
        index_before = _index_contents(settings)
        records = _copy_database(database, stage / DATA / DATABASE_FILE)
        _copy_index(settings.resolved_chroma_path, stage / DATA / CHROMA_DIR)
        if _index_contents(settings) != index_before:
            raise BackupError("the index changed while it was copied (an ingest ran); back up again when none runs")
        _copy_files(settings.models_dir, stage / DATA / MODELS_DIR)
        _copy_files(settings.sop_dir, stage / SOP)
        manifest = Manifest(
            created_at=dt.datetime.now(dt.UTC),
            copilot_version=_version_of("support-copilot"),
            versions=installed_versions(),
            database=records,
            index=index_before,
            triage_models=sorted(p.name for p in (stage / DATA / MODELS_DIR).glob("*") if p.is_dir()),
            sop_files=[name.removeprefix(f"{SOP}/") for name in _files(stage) if name.startswith(f"{SOP}/")],
            files={name: _sha256(stage / name) for name in _files(stage)},
        )
        (stage / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        partial = Path(tmp) / "archive.tar.gz"
        _write_archive(stage, partial)
        partial.chmod(0o600)  # it holds ticket texts and replies: its owner's to read
        os.replace(partial, out)
    return manifest


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    data_dir: Path
    sop_dir: Path


def restore(
    archive: Path, settings: Settings, *, data_dir: Path | None = None, sop_dir: Path | None = None, force: bool = False
) -> Restored:
    """Restore an archive into `data_dir` and `sop_dir` (default: the settings'), both empty unless `force`.

    Everything is checked before anything is written (a safe, listed, untampered archive; empty targets), and
    the files land in temp dirs beside the targets that are renamed into place. Raises BackupError.
    """
    data_dir = (data_dir or settings.data_dir).absolute()
    sop_dir = (sop_dir or settings.sop_dir).absolute()
    _require_default_layout(settings, data_dir)
    if data_dir.is_relative_to(sop_dir):
        raise BackupError(f"the data dir {data_dir} must not be inside the SOP dir {sop_dir}")
    with _open_archive(archive) as tar:
        members = _checked_members(archive, tar)
        manifest = _read_manifest(archive, tar, members)
        files = _listed_files(archive, members, manifest)
        for target, what in ((data_dir, "data dir"), (sop_dir, "SOP dir")):
            _require_empty(target, what, force=force)
        # A SOP dir inside the data dir is restored with it, in the data dir's one rename.
        sop_inside = sop_dir.relative_to(data_dir) if sop_dir.is_relative_to(data_dir) else None
        with ExitStack() as staged:
            data_tmp = staged.enter_context(_staging(data_dir))
            sop_tmp = data_tmp / sop_inside if sop_inside else staged.enter_context(_staging(sop_dir))
            for member in files:
                top, *rest = PurePosixPath(member.name).parts
                target = (data_tmp if top == DATA else sop_tmp).joinpath(*rest)
                _extract(archive, tar, member, target, expected=manifest.files[member.name])
            _swap_into_place([(data_tmp, data_dir)] if sop_inside else [(data_tmp, data_dir), (sop_tmp, sop_dir)])
    return Restored(manifest=manifest, data_dir=data_dir, sop_dir=sop_dir)


def copy_records_and_index(settings: Settings, data_dir: Path) -> None:
    """Copy the records database and the index (unless it is on a Chroma server) into `data_dir`, in the default
    layout, consistently while a server writes them: for a run that must not touch the operator's own records
    (`copilot bench load`). Raises BackupError for a database that is not a SQLite file."""
    _copy_database(embedded_database(settings), data_dir / DATABASE_FILE)
    if not settings.chroma_url:
        _copy_index(settings.resolved_chroma_path, data_dir / CHROMA_DIR)


def embedded_database(settings: Settings) -> Path:
    """The SQLite file holding the records; BackupError for any other database."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        shown = url.render_as_string(hide_password=True)
        raise BackupError(
            f"database_url points at {shown}, not a SQLite file; back it up with that database's own tools "
            "(for PostgreSQL: pg_dump)"
        )
    return Path(str(url.database))


def installed_versions() -> dict[str, str]:
    return {"python": platform.python_version(), "chromadb": _version_of("chromadb"), "sqlite": sqlite3.sqlite_version}


def version_notes(manifest: Manifest) -> list[str]:
    """Differences between the versions an archive was made with and the ones installed here."""
    here = installed_versions() | {"copilot": _version_of("support-copilot")}
    then = manifest.versions | {"copilot": manifest.copilot_version}
    return [f"made with {name} {then[name]}, running {here[name]}" for name in here if then.get(name) != here[name]]


# --- backing up ---


def _index_contents(settings: Settings) -> IndexContents | None:
    path = settings.resolved_chroma_path
    if not (path / CHROMA_SQLITE).exists():
        return None  # never ingested; opening a client would create an empty index
    client = chroma_client(path=str(path))
    name = settings.chroma_collection
    if name not in {c.name for c in client.list_collections()}:
        return IndexContents(collection=name, chunks=0, documents={}, fingerprint=None)
    collection = client.get_collection(name)
    metadatas = collection.get(include=["metadatas"])["metadatas"] or []
    documents = {str(m["doc_id"]): str(m["doc_version"]) for m in metadatas}
    stamp = (collection.metadata or {}).get("library_fingerprint")
    return IndexContents(
        collection=name,
        chunks=collection.count(),
        documents=dict(sorted(documents.items())),
        fingerprint=None if stamp is None else str(stamp),
    )


def _copy_database(source: Path, target: Path) -> DatabaseContents | None:
    if not source.exists():
        return None
    _sqlite_backup(source, target)
    with closing(sqlite3.connect(target)) as copy:
        return DatabaseContents(
            drafts=_row_count(copy, drafts_table.name), decisions=_row_count(copy, transitions_table.name)
        )


def _copy_index(source: Path, target: Path) -> None:
    """The HNSW files as they are, then chroma.sqlite3 (whose log Chroma replays) by the online backup."""
    if not (source / CHROMA_SQLITE).exists():
        return
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(f"{CHROMA_SQLITE}*"))
    _sqlite_backup(source / CHROMA_SQLITE, target / CHROMA_SQLITE)


def _sqlite_backup(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database that another process may be writing (SQLite's backup API)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def _row_count(conn: sqlite3.Connection, table: str) -> int:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]) if exists else 0


def _copy_files(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*", "__pycache__"))


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _write_archive(stage: Path, out: Path) -> None:
    def anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(out, "w:gz") as tar:
        for name in [MANIFEST, *(n for n in _files(stage) if n != MANIFEST)]:  # the manifest first: read first
            tar.add(stage / name, arcname=name, recursive=False, filter=anonymous)


# --- restoring ---


def _require_default_layout(settings: Settings, data_dir: Path) -> None:
    """A restore writes <data_dir>/copilot.db and <data_dir>/chroma; settings pointing elsewhere would not see them."""
    if settings.chroma_url:
        raise BackupError(f"chroma_url is set ({settings.chroma_url}); a restore fills an embedded index: unset it")
    if settings.chroma_path is not None and settings.chroma_path.absolute() != data_dir / CHROMA_DIR:
        raise BackupError(
            f"chroma_path is set ({settings.chroma_path}); a restore writes the index to {data_dir / CHROMA_DIR}: "
            "unset COPILOT_CHROMA_PATH"
        )
    if settings.database_url is not None and make_url(settings.database_url) != make_url(
        f"sqlite:///{data_dir / DATABASE_FILE}"
    ):
        raise BackupError(
            f"database_url is set; a restore writes the records to {data_dir / DATABASE_FILE}: "
            "unset COPILOT_DATABASE_URL"
        )


def _open_archive(archive: Path) -> tarfile.TarFile:
    if not archive.is_file():
        raise BackupError(f"no backup archive at {archive}")
    try:
        return tarfile.open(archive, "r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{archive} is not a copilot backup (not a tar.gz archive: {exc})") from exc


def _checked_members(archive: Path, tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Every entry, refusing any that could write outside the restore (absolute, `..`, links, devices)."""
    try:
        members = tar.getmembers()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"{archive} is damaged: {exc}") from exc
    seen: set[str] = set()
    for member in members:
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts:
            raise BackupError(f"{archive}: entry {member.name!r} points outside the restore; refusing this archive")
        if not (member.isfile() or member.isdir()):
            raise BackupError(
                f"{archive}: entry {member.name!r} is a link or device; a copilot backup holds only files"
            )
        if member.isfile() and member.name in seen:
            raise BackupError(f"{archive}: entry {member.name!r} appears twice; refusing this archive")
        seen.add(member.name)
    return members


def _read_manifest(archive: Path, tar: tarfile.TarFile, members: list[tarfile.TarInfo]) -> Manifest:
    entry = next((m for m in members if m.isfile() and m.name == MANIFEST), None)
    handle = tar.extractfile(entry) if entry is not None else None
    if handle is None:
        raise BackupError(f"{archive} is not a copilot backup: it has no {MANIFEST}")
    try:
        raw = json.loads(handle.read())
    except ValueError as exc:
        raise BackupError(f"{archive}: {MANIFEST} is not JSON ({exc})") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a copilot backup: {MANIFEST} does not say format {FORMAT!r}")
    if raw.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{archive} is backup format {raw.get('format_version')!r}; this copilot reads format {FORMAT_VERSION}"
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BackupError(f"{archive}: {MANIFEST} field {where}: {first['msg']}") from exc


def _listed_files(archive: Path, members: list[tarfile.TarInfo], manifest: Manifest) -> list[tarfile.TarInfo]:
    """The files to restore: exactly those the manifest lists, under data/ or sop/."""
    files = [m for m in members if m.isfile() and m.name != MANIFEST]
    names = {m.name for m in files}
    for name in sorted(names):
        parts = PurePosixPath(name).parts
        if len(parts) < 2 or parts[0] not in (DATA, SOP):
            raise BackupError(f"{archive}: entry {name!r} is outside data/ and sop/; refusing this archive")
    for name in sorted(names ^ set(manifest.files)):
        where = "is not listed in" if name in names else "is listed in but missing from the archive, per"
        raise BackupError(f"{archive}: {name} {where} {MANIFEST}; refusing an altered archive")
    return files


def _require_empty(target: Path, what: str, *, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise BackupError(f"the {what} {target} is a file, not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise BackupError(f"the {what} {target} is not empty; restore into an empty one, or pass --force to replace it")


@contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A temp dir beside the target (same file system, so a rename moves it), removed unless renamed away."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restoring-{secrets.token_hex(4)}")
    tmp.mkdir()  # not mkdtemp: the restored folder gets the usual permissions, not 0700
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _extract(archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, *, expected: str) -> None:
    source = tar.extractfile(member)
    if source is None:
        raise BackupError(f"{archive}: entry {member.name!r} cannot be read")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        digest = _copy_hashing(source, out)
    if digest != expected:
        raise BackupError(
            f"{archive}: {member.name} does not match its checksum in {MANIFEST}; the archive was altered"
        )


def _swap_into_place(swaps: list[tuple[Path, Path]]) -> None:
    """Rename each staged dir onto its target, the old target moved aside; on failure put back what was moved."""
    done: list[tuple[Path, Path, Path | None]] = []
    try:
        for staged, target in swaps:
            aside = None
            if target.exists():
                aside = target.with_name(f".{target.name}.replaced-{secrets.token_hex(4)}")
                target.rename(aside)
            staged.rename(target)
            done.append((staged, target, aside))
    except OSError as exc:
        for staged, target, aside in reversed(done):
            target.rename(staged)
            if aside is not None:
                aside.rename(target)
        raise BackupError(f"could not move the restored files into place: {exc}") from exc
    for _, _, aside in done:
        if aside is not None:
            shutil.rmtree(aside)


# --- helpers ---


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return _copy_hashing(handle, None)


def _copy_hashing(source: IO[bytes], out: IO[bytes] | None) -> str:
    digest = hashlib.sha256()
    while block := source.read(_CHUNK):
        digest.update(block)
        if out is not None:
            out.write(block)
    return digest.hexdigest()


def _version_of(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
