"""The record is always true: a draft's text, its citations and the SOP versions it records are of one library
version, even while another process publishes a new one, and a document changed without a new version number is
refused. Each test has its own copy of the SOP folder and the session's index."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from langchain_core.embeddings import Embeddings

from copilot.domain import Draft, Ticket
from copilot.domain.drafts import ProblemKind
from copilot.pipeline import ingest, suggest
from copilot.services import Services, build_services
from knowledge_base.loader import SopError
from tests.servers import Servers

pytestmark = pytest.mark.integration

EDITED = "SOP-CR-03"
OLD_WORDING = "We checked, and it has been sent from our side and is on its way to your payout method."
PAYOUT = "I withdrew $212 six business days ago and it hasn't arrived in my bank yet. Is that normal?"


def reword(sop_dir: Path, wording: str) -> str:
    """Give the in-transit template of SOP-CR-03 new wording and the next patch version; returns the version."""
    path = sop_dir / f"{EDITED}.md"
    text = path.read_text(encoding="utf-8")
    old = re.search(r"^version: (\d+)\.(\d+)\.(\d+)$", text, flags=re.MULTILINE)
    assert old is not None
    version = f"{old[1]}.{old[2]}.{int(old[3]) + 1}"
    current = next(
        line for line in text.splitlines() if line.startswith("Thanks for reaching out about your withdrawal")
    )
    reworded = re.sub(r"We checked, .*? payout method\.|Checked: .*?\.$", wording, current)
    path.write_text(text.replace(old[0], f"version: {version}", 1).replace(current, reworded, 1), encoding="utf-8")
    return version


def cited_version(draft: Draft) -> str:
    return next(c.doc_version for c in draft.citations if c.doc_id == EDITED)


def test_a_reingest_under_live_suggestions_loses_no_citation_and_never_mixes_versions(
    own_library: Services, embeddings: Embeddings
) -> None:
    # The publisher is a second bundle over the same data, as another process would be: its own snapshot holder.
    publisher = build_services(own_library.settings, embeddings=embeddings)
    drafts: list[Draft] = []
    done = threading.Event()

    def suggest_until_done() -> None:
        n = 0
        while not done.is_set() or n < 5:
            drafts.append(suggest(Ticket(id=f"live-{n}", text=PAYOUT), services=own_library))
            n += 1

    worker = threading.Thread(target=suggest_until_done)
    worker.start()
    wordings = {}
    try:
        for n in range(4):
            wording = f"Checked: the transfer left us on cycle {n} and is heading to your payout method."
            wordings[reword(own_library.settings.sop_dir, wording)] = wording
            ingest(publisher)
    finally:
        done.set()
        worker.join(timeout=300)

    assert len(drafts) >= 5
    for draft in drafts:
        assert draft.citations, draft.id
        assert not [p for p in draft.problems if p.kind in (ProblemKind.UNKNOWN_CITATION, ProblemKind.STALE_CITATION)]
        version = cited_version(draft)
        expected = wordings.get(version, OLD_WORDING)
        assert expected in (draft.reply or ""), (draft.id, version)
        assert expected in own_library.sop_versions.get(EDITED, version).text
    assert cited_version(drafts[-1]) == max(wordings, key=lambda v: tuple(map(int, v.split("."))))


def test_an_sop_changed_without_a_new_version_is_refused_with_its_file_named(own_library: Services) -> None:
    path = own_library.settings.sop_dir / f"{EDITED}.md"
    path.write_text(path.read_text(encoding="utf-8").replace(OLD_WORDING, "It left us yesterday."), encoding="utf-8")
    before = own_library.snapshot().fingerprint

    with pytest.raises(SopError, match=rf"{EDITED}\.md: version: .* was published with other content"):
        ingest(own_library)

    assert own_library.index.stamp() == before
    assert OLD_WORDING in own_library.sop_versions.get(EDITED, own_library.library.documents[EDITED].version).text


def test_a_library_published_by_another_process_is_used_by_the_running_server_before_its_next_draft(
    ready: Services, embeddings: Embeddings, tmp_path: Path
) -> None:
    sop_dir = tmp_path / "sop"
    shutil.copytree(ready.settings.sop_dir, sop_dir)
    servers = Servers(ready, embeddings, tmp_path, sop_dir=sop_dir)
    server = servers()
    try:
        server.wait_until_up()
        # The server's database is new: an ingest through it keeps the published versions citations link to.
        assert httpx.post(f"{server.base}/v1/kb/ingest", headers=server.headers, timeout=300).status_code == 200
        before = httpx.post(f"{server.base}/v1/suggest", json={"text": PAYOUT}, headers=server.headers, timeout=120)
        assert before.status_code == 201, before.text
        old_version = next(c["doc_version"] for c in before.json()["citations"] if c["doc_id"] == EDITED)

        wording = "Checked: the transfer left us and is heading to your payout method."
        new_version = reword(sop_dir, wording)
        cli = subprocess.run(
            [str(Path(sys.executable).parent / "copilot"), "kb", "ingest"],
            env=servers.environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert cli.returncode == 0, cli.stderr

        after = httpx.post(f"{server.base}/v1/suggest", json={"text": PAYOUT}, headers=server.headers, timeout=120)
        assert after.status_code == 201, after.text
        draft = after.json()
        assert wording in draft["reply"] and OLD_WORDING not in draft["reply"]
        assert {c["doc_version"] for c in draft["citations"] if c["doc_id"] == EDITED} == {new_version}
        assert not draft["problems"]
        approved = httpx.post(
            f"{server.base}/v1/drafts/{draft['id']}/decision",
            json={"kind": "approve"},
            headers=server.headers,
            timeout=60,
        )
        assert approved.status_code == 201, approved.text

        def kept(version: str) -> str:
            answer = httpx.get(
                f"{server.base}/v1/kb/documents/{EDITED}/versions/{version}", headers=server.headers, timeout=30
            )
            assert answer.status_code == 200, answer.text
            return str(answer.json()["text"])

        assert OLD_WORDING in kept(old_version) and wording in kept(new_version)
    finally:
        servers.stop()
