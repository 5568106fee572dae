"""`copilot backup` and `copilot restore`: a restored data dir answers as the original did, and an archive that
is foreign, altered or reaches outside its restore is refused before anything is written."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.domain import Decision, DecisionKind, Ticket
from copilot.pipeline import search_knowledge_base, suggest
from copilot.services import Services, build_services, load_triage_model
from copilot.store.drafts import DraftStore
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import make_settings
from tests.servers import admin_key

runner = CliRunner()

QUERIES = ["how long do strikes last", "my verified badge disappeared", "payout never arrived", "hacked account"]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def env(ready: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """Point the CLI's own Settings at the session's ingested index and trained model."""
    monkeypatch.setenv("COPILOT_DATA_DIR", str(ready.settings.data_dir))
    monkeypatch.setenv("COPILOT_SOP_DIR", str(ready.settings.sop_dir))
    monkeypatch.setenv("COPILOT_DATASETS_DIR", str(ready.settings.datasets_dir))
    monkeypatch.setenv("COPILOT_TRAINING_DIR", str(ready.settings.training_dir))
    return ready


@pytest.mark.integration
def test_a_restored_data_dir_holds_the_same_drafts_search_results_and_model(
    env: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    drafts = [
        suggest(Ticket(text=text), services=env)
        for text in ("my payout from march never arrived", "can't log in, the code never comes", "hello??")
    ]
    env.store.decide(drafts[0].id, Decision(kind=DecisionKind.EDIT, actor="agent-9", final_text="Hi, it is sent."))
    archive = tmp_path / "copilot.tar.gz"

    code, out, err = run("backup", str(archive))
    assert code == 0, err
    assert "Backed up to" in out

    data, sop = tmp_path / "restored" / "data", tmp_path / "restored" / "sop"
    code, out, err = run("restore", str(archive), "--data-dir", str(data), "--sop-dir", str(sop))
    assert code == 0, err
    assert f"COPILOT_DATA_DIR={data}" in out

    restored = build_services(make_settings(data, sop_dir=sop), embeddings=embeddings)
    try:
        load_triage_model(restored, train_if_missing=False)
        assert restored.require_classifier().version == env.require_classifier().version
        for draft in drafts:
            assert restored.store.get(draft.id) == env.store.get(draft.id)
            assert restored.store.transitions(draft.id) == env.store.transitions(draft.id)
        assert restored.store.get(drafts[0].id).status.value == "edited"
        assert restored.index.count() == env.index.count()
        for query in QUERIES:
            original = [p.chunk_id for p in search_knowledge_base(query, services=env, k=5)]
            assert [p.chunk_id for p in search_knowledge_base(query, services=restored, k=5)] == original, query
        assert files_under(sop) == files_under(env.settings.sop_dir)
    finally:
        restored.store.close()


@pytest.mark.integration
def test_restore_refuses_a_data_dir_that_is_not_empty_unless_forced(env: Services, tmp_path: Path) -> None:
    archive = tmp_path / "copilot.tar.gz"
    assert run("backup", str(archive))[0] == 0
    data, sop = tmp_path / "data", tmp_path / "sop"
    data.mkdir()
    (data / "notes.txt").write_text("mine")

    code, _, err = run("restore", str(archive), "--data-dir", str(data), "--sop-dir", str(sop))
    assert code == 1 and err.strip().count("\n") == 0
    assert "not empty" in err and "--force" in err
    assert (data / "notes.txt").read_text() == "mine" and not sop.exists()

    code, _, err = run("restore", str(archive), "--data-dir", str(data), "--sop-dir", str(sop), "--force")
    assert code == 0, err
    assert not (data / "notes.txt").exists() and (data / "copilot.db").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copilot.tar.gz", "data", "sop"], "no temp dir is left"


@pytest.mark.integration
def test_a_backup_taken_while_a_server_runs_holds_the_draft_it_just_stored(
    ready: Services, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's last write may sit in SQLite's write-ahead log, not yet in copilot.db: a file copy would miss it."""
    data = tmp_path / "data"
    for folder in ("models", "chroma"):
        shutil.copytree(ready.settings.data_dir / folder, data / folder)
    assert embeddings.onnx_dir is not None
    shutil.copytree(embeddings.onnx_dir, data / "onnx")
    variables = {
        "COPILOT_DATA_DIR": str(data),
        "COPILOT_SOP_DIR": str(ready.settings.sop_dir),
        "COPILOT_TRAINING_DIR": str(ready.settings.training_dir),
        "COPILOT_DATASETS_DIR": str(ready.settings.datasets_dir),
    }
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base, log = f"http://127.0.0.1:{port}", tmp_path / "serve.log"
    command = [str(Path(sys.executable).parent / "copilot"), "serve", "--port", str(port), "--skip-ingest"]
    key = admin_key(make_settings(data).resolved_database_url)
    with log.open("w") as out:
        server = subprocess.Popen(command, env=os.environ | variables, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_server(base, server, log)
        made = httpx.post(
            f"{base}/v1/suggest",
            json={"text": "where is my payout from last month?"},
            headers={"X-API-Key": key},
            timeout=60,
        )
        assert made.status_code == 201, made.text
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        archive = tmp_path / "live.tar.gz"
        code, _, err = run("backup", str(archive))
        assert code == 0, err
    finally:
        server.terminate()
        server.wait(timeout=30)

    restored = tmp_path / "restored"
    code, _, err = run(
        "restore", str(archive), "--data-dir", str(restored / "data"), "--sop-dir", str(restored / "sop")
    )
    assert code == 0, err
    store = DraftStore(f"sqlite:///{restored / 'data' / 'copilot.db'}")
    try:
        assert store.get(made.json()["id"]).reply == made.json()["reply"]
    finally:
        store.close()


def wait_for_server(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240  # a bound on waiting, not a speed target
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/v1/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.5)
    raise AssertionError(f"copilot serve did not answer within 240 s:\n{log.read_text()}")


# --- archives that are refused: built from a small real backup (a models folder and a SOP library, no index) ---


@pytest.fixture
def small_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data, sop = tmp_path / "source" / "data", tmp_path / "source" / "sop"
    (data / "models" / "triage-20260101T000000Z").mkdir(parents=True)
    (data / "models" / "triage-20260101T000000Z" / "metadata.json").write_text('{"version": "x"}')
    sop.mkdir()
    (sop / "taxonomy.yaml").write_text("lobs: {}\n")
    (sop / "SOP-X-01.md").write_text("---\nid: SOP-X-01\n---\n")
    monkeypatch.setenv("COPILOT_DATA_DIR", str(data))
    monkeypatch.setenv("COPILOT_SOP_DIR", str(sop))
    archive = tmp_path / "small.tar.gz"
    code, _, err = run("backup", str(archive))
    assert code == 0, err
    return archive


def rewritten(archive: Path, *, change: dict[str, bytes], drop: tuple[str, ...] = ()) -> Path:
    """A copy of the archive with some entries' contents replaced (or added) and some dropped."""
    out = archive.with_name("altered.tar.gz")
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as target:
        entries = {m.name: source.extractfile(m).read() for m in source.getmembers() if m.isfile()}  # type: ignore[union-attr]
        for name, content in (entries | change).items():
            if name not in drop:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                target.addfile(info, io.BytesIO(content))
    return out


def manifest_of(archive: Path) -> dict[str, object]:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]


def restore_into(tmp_path: Path, archive: Path) -> tuple[int, str]:
    target = tmp_path / "target"
    code, _, err = run("restore", str(archive), "--data-dir", str(target / "data"), "--sop-dir", str(target / "sop"))
    return code, err


@pytest.mark.unit
@pytest.mark.parametrize("entry", ["../x", "data/../../x", "/tmp/copilot-restore-evil"])
def test_an_entry_reaching_outside_the_restore_is_refused_and_nothing_is_written(
    small_backup: Path, tmp_path: Path, entry: str
) -> None:
    manifest = manifest_of(small_backup)
    manifest["files"] = {**manifest["files"], entry: "0" * 64}  # type: ignore[dict-item]
    evil = rewritten(small_backup, change={entry: b"owned", "manifest.json": json.dumps(manifest).encode()})

    code, err = restore_into(tmp_path, evil)

    assert code == 1 and err.strip().count("\n") == 0
    assert repr(entry) in err and "outside the restore" in err
    assert not (tmp_path / "target").exists()
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()
    assert not Path("/tmp/copilot-restore-evil").exists()


@pytest.mark.unit
def test_an_altered_file_is_refused_and_no_half_restored_dir_is_left(small_backup: Path, tmp_path: Path) -> None:
    altered = rewritten(small_backup, change={"sop/SOP-X-01.md": b"---\nid: SOP-X-01\nstatus: retired\n---\n"})

    code, err = restore_into(tmp_path, altered)

    assert code == 1 and err.strip().count("\n") == 0
    assert "sop/SOP-X-01.md does not match its checksum" in err
    assert not (tmp_path / "target").exists() or list((tmp_path / "target").iterdir()) == []


@pytest.mark.unit
def test_an_archive_without_its_manifest_is_not_a_backup(small_backup: Path, tmp_path: Path) -> None:
    code, err = restore_into(tmp_path, rewritten(small_backup, change={}, drop=("manifest.json",)))
    assert code == 1 and "is not a copilot backup: it has no manifest.json" in err
    assert not (tmp_path / "target").exists()


@pytest.mark.unit
def test_a_file_missing_from_the_manifest_is_refused(small_backup: Path, tmp_path: Path) -> None:
    code, err = restore_into(tmp_path, rewritten(small_backup, change={"sop/extra.md": b"planted"}))
    assert code == 1 and "sop/extra.md is not listed in manifest.json" in err


@pytest.mark.unit
def test_a_file_that_is_not_an_archive_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "backup.tar.gz"
    bogus.write_text("not an archive")
    code, err = restore_into(tmp_path, bogus)
    assert code == 1 and "not a tar.gz archive" in err


@pytest.mark.unit
def test_backup_refuses_a_database_that_is_not_sqlite_without_showing_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COPILOT_DATABASE_URL", "postgresql+psycopg://copilot:s3cret@127.0.0.1:5432/copilot")
    code, _, err = run("backup", str(tmp_path / "out.tar.gz"))
    assert code == 1 and err.strip().count("\n") == 0
    assert "pg_dump" in err and "s3cret" not in err
    assert not (tmp_path / "out.tar.gz").exists()
