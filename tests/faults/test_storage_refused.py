"""The records database on a full disk, or on a read-only one: the API answers 503 saying so and the CLI one
line and exit 1; what was acknowledged before is kept, nothing is half-written, and once space is freed the same
request (same helpdesk id) goes through. The disk is a real 8 MB tmpfs mounted for the test (it needs root;
skipped without)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from api.errors import STORAGE_REFUSED
from copilot.services import open_records
from copilot.store.database import open_engine
from copilot.store.tables import audit_log, drafts, tickets
from tests.factories import SOP_DIR, a_draft, make_settings
from tests.servers import Servers, admin_key

pytestmark = pytest.mark.integration

COPILOT = str(Path(sys.executable).parent / "copilot")
PAYOUT = "my withdrawal from oct 3 still has not arrived"
MOST_TRIES = 40  # suggestions sent after the disk filled, at most, before one must be refused


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], capture_output=True, text=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (root is needed): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write to the disk until it is full; returns the filler file."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_a_full_disk_is_a_503_saying_so_and_leaves_nothing_half_written(servers: Servers, small_disk: Path) -> None:
    url = f"sqlite:///{small_disk / 'copilot.db'}"
    key = {"X-API-Key": admin_key(url)}
    server = servers(COPILOT_DATABASE_URL=url)
    server.wait_until_up()

    def suggest(helpdesk_id: str) -> httpx.Response:
        body = {"text": PAYOUT, "helpdesk_id": helpdesk_id}
        return httpx.post(f"{server.base}/v1/suggest", json=body, headers=key, timeout=120)

    assert suggest("HD-before").status_code == 201
    filler = fill(small_disk)
    answers = []
    for n in range(MOST_TRIES):
        answers.append((f"HD-full-{n}", suggest(f"HD-full-{n}")))
        if answers[-1][1].status_code != 201:
            break
    refused_id, refused = answers[-1]
    assert refused.status_code == 503, refused.text
    assert refused.json() == {"detail": STORAGE_REFUSED}
    assert "disk is full" in refused.json()["detail"]

    filler.unlink()
    again = suggest(refused_id)
    assert again.status_code == 201, again.text

    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
            kept = conn.execute(sa.select(tickets.c.helpdesk_id, tickets.c.id)).all()
            draft_tickets = list(conn.execute(sa.select(drafts.c.ticket_id, drafts.c.id)).all())
            audited = set(conn.execute(sa.select(audit_log.c.target)).scalars())
    finally:
        engine.dispose()
    acknowledged = ["HD-before", *(hd for hd, answer in answers if answer.status_code == 201), refused_id]
    assert sorted(hd for hd, _ in kept) == sorted(acknowledged), "each ticket kept once, none half-kept twice"
    with_draft = {ticket_id for ticket_id, _ in draft_tickets}
    assert {ticket_id for _, ticket_id in kept} == with_draft, "every kept ticket has its draft"
    assert {i for _, i in kept} | {i for _, i in draft_tickets} <= audited, "every row has its audit entry"


def test_a_read_only_data_dir_is_one_line_and_exit_1_from_the_cli(small_disk: Path) -> None:
    data = small_disk / "data"
    records = open_records(make_settings(data))
    draft = records.store.save(a_draft())
    records.close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    env = os.environ | {"COPILOT_DATA_DIR": str(data), "COPILOT_SOP_DIR": str(SOP_DIR)}
    env.pop("COPILOT_DATABASE_URL", None)

    refused = subprocess.run(
        [COPILOT, "decide", draft.id, "approve", "--actor", "agent-7"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: the records database cannot be written: "), line
    assert line.endswith("(is its disk full, or its data dir read-only?)"), line
    assert "Traceback" not in refused.stderr
