"""The scaled-out profile as an operator runs it: a Chroma server (chromadb's own `chroma run`), a PostgreSQL
database, and two `copilot serve` processes over them, each with its own data dir. What one process writes (a
draft, a decision, an ingest of an edited SOP) the other sees. Skipped only when PostgreSQL is unreachable."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from copilot.domain.accounts import Role
from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.servers import OPERATOR, accounts_in

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
POSTGRES = "host=127.0.0.1 port=5432 dbname=test user=postgres"
STARTUP_LIMIT_S = 300  # a bound on waiting, not a speed target: two servers on a busy 2-core machine are slow

EDITED_SOP = "SOP-CR-03.md"
NEW_SENTENCE = "Payouts sent through the Quokka Ledger pilot settle only on alternate Thursdays."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(ready: Callable[[], bool], *, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} was not ready within {STARTUP_LIMIT_S} s:\n{log.read_text()[-4000:]}")


def copilot_ready(base: str) -> bool:
    """Ready as a load balancer asks (/v1/health/ready), or, on a build without it, answering /v1/health."""
    answer = httpx.get(f"{base}/v1/health/ready", timeout=5)
    if answer.status_code == 404:
        answer = httpx.get(f"{base}/v1/health", timeout=5)
    return answer.status_code == 200


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL, dropped afterwards."""
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (database test, user postgres) is unreachable: {exc}")
    name = f"copilot_scale_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server, started with chromadb's own CLI, persisting to a temp folder."""
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = root / "chroma.log"
    command = [str(BIN / "chroma"), "run", "--path", str(root / "db"), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            heartbeat = f"{url}/api/v2/heartbeat"
            wait_until(
                lambda: httpx.get(heartbeat, timeout=5).status_code == 200, what="chroma run", process=process, log=log
            )
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


@dataclass
class Cluster:
    a: str
    b: str
    sop_dir: Path
    data_dirs: list[Path]
    postgres_url: str
    keys: dict[str, str]  # API keys in the shared database: "admin", and the specialists "agent-a" and "agent-b"

    def as_(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}


@pytest.fixture(scope="module")
def cluster(
    ready: Services,
    embeddings: LocalMiniLMEmbeddings,
    chroma_url: str,
    postgres_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    """Process A ingests a copy of the SOP library into the Chroma server and serves; then B serves it as it is.
    Each has its own data dir (a copy of the session's trained model and ONNX export), as on two machines."""
    root = tmp_path_factory.mktemp("scaled-out")
    sop_dir = root / "sop"
    shutil.copytree(ready.settings.sop_dir, sop_dir)
    assert embeddings.onnx_dir is not None
    processes: list[subprocess.Popen[bytes]] = []
    bases, data_dirs = [], []
    with accounts_in(postgres_url) as accounts:  # both processes share the one records database
        keys = {
            who: accounts.create_key(who, role, by=OPERATOR)[1]
            for who, role in (("admin", Role.ADMIN), ("agent-a", Role.SPECIALIST), ("agent-b", Role.SPECIALIST))
        }
    try:
        for name, extra in (("a", []), ("b", ["--skip-ingest"])):
            data = root / f"data-{name}"
            shutil.copytree(ready.settings.models_dir, data / "models")
            shutil.copytree(embeddings.onnx_dir, data / "onnx")
            env = os.environ | {
                "COPILOT_DATA_DIR": str(data),
                "COPILOT_SOP_DIR": str(sop_dir),
                "COPILOT_TRAINING_DIR": str(ready.settings.training_dir),
                "COPILOT_DATASETS_DIR": str(ready.settings.datasets_dir),
                "COPILOT_CHROMA_URL": chroma_url,
                "COPILOT_DATABASE_URL": postgres_url,
            }
            port = free_port()
            log = root / f"serve-{name}.log"
            with log.open("w") as out:
                command = [str(BIN / "copilot"), "serve", "--port", str(port), *extra]
                processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
            base = f"http://127.0.0.1:{port}"
            wait_until(
                lambda base=base: copilot_ready(base), what=f"copilot serve {name}", process=processes[-1], log=log
            )
            bases.append(base)
            data_dirs.append(data)
        yield Cluster(
            a=bases[0], b=bases[1], sop_dir=sop_dir, data_dirs=data_dirs, postgres_url=postgres_url, keys=keys
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_both_processes_serve_the_index_on_the_chroma_server_and_keep_nothing_on_their_own_disk(
    cluster: Cluster, ready: Services
) -> None:
    for base in (cluster.a, cluster.b):
        health = httpx.get(f"{base}/v1/health", timeout=30).json()
        assert health["chunks"] == ready.index.count()
        assert health["triage_model"] == ready.require_classifier().version
    for data in cluster.data_dirs:
        assert not (data / "chroma").exists() and not (data / "copilot.db").exists()


def test_a_draft_suggested_on_one_process_is_decided_on_the_other_and_only_once(cluster: Cluster) -> None:
    made = httpx.post(
        f"{cluster.a}/v1/suggest",
        json={"text": "my withdrawal from oct 3 still has not arrived", "creator_handle": "mila.bakes"},
        headers=cluster.as_("admin"),
        timeout=60,
    )
    assert made.status_code == 201, made.text
    draft_id = made.json()["id"]

    seen = httpx.get(f"{cluster.b}/v1/drafts/{draft_id}", headers=cluster.as_("admin"), timeout=30)
    assert seen.status_code == 200, seen.text
    assert seen.json()["status"] == "pending" and seen.json()["reply"] == made.json()["reply"]

    decided = httpx.post(
        f"{cluster.b}/v1/drafts/{draft_id}/decision",
        json={"kind": "approve"},
        headers=cluster.as_("agent-b"),
        timeout=30,
    )
    assert decided.status_code == 201, decided.text
    again = httpx.post(
        f"{cluster.a}/v1/drafts/{draft_id}/decision",
        json={"kind": "reject", "reason": "tone"},
        headers=cluster.as_("agent-a"),
        timeout=30,
    )
    assert again.status_code == 409, again.text

    history = httpx.get(f"{cluster.a}/v1/drafts/{draft_id}/history", headers=cluster.as_("admin"), timeout=30).json()
    assert [(t["to_status"], t["actor"]) for t in history] == [("approved", "key:agent-b")]
    database = cluster.postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(f"host=127.0.0.1 port=5432 dbname={database} user=postgres") as conn:
        assert conn.execute("SELECT status FROM drafts WHERE id = %s", (draft_id,)).fetchone() == ("approved",)


def test_an_edited_sop_ingested_on_one_process_is_found_by_a_search_on_the_other(cluster: Cluster) -> None:
    query = {"q": "quokka ledger pilot settles on alternate thursdays", "k": 3}
    # B's keyword index is built now.
    before = httpx.get(f"{cluster.b}/v1/kb/search", params=query, headers=cluster.as_("admin"), timeout=30)
    assert before.status_code == 200
    assert not any(NEW_SENTENCE in p["text"] for p in before.json()["passages"])

    version = add_sentence(cluster.sop_dir / EDITED_SOP, NEW_SENTENCE)
    ingested = httpx.post(f"{cluster.a}/v1/kb/ingest", headers=cluster.as_("admin"), timeout=120)
    assert ingested.status_code == 200, ingested.text
    assert ingested.json()["updated"] == ["SOP-CR-03"]

    after = httpx.get(f"{cluster.b}/v1/kb/search", params=query, headers=cluster.as_("admin"), timeout=30)
    assert after.status_code == 200
    best = after.json()["passages"][0]
    assert NEW_SENTENCE in best["text"]
    assert (best["doc_id"], best["doc_version"]) == ("SOP-CR-03", version)


def add_sentence(path: Path, sentence: str) -> str:
    """Append a sentence to the SOP's first section and bump its patch version; return the new version."""
    text = path.read_text(encoding="utf-8")
    old = re.search(r"^version: (\d+)\.(\d+)\.(\d+)$", text, flags=re.MULTILINE)
    assert old is not None, f"{path.name} has no semantic version"
    major, minor, patch = old.groups()
    version = f"{major}.{minor}.{int(patch) + 1}"
    text = text.replace(old.group(0), f"version: {version}", 1)
    first_section_end = text.index("\n\n", text.index("## When this applies") + len("## When this applies\n\n"))
    path.write_text(text[:first_section_end] + " " + sentence + text[first_section_end:], encoding="utf-8")
    return version
