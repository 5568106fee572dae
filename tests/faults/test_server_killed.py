"""kill -9 of the server while a client writes: every draft and decision the client got a 2xx for is in the
database afterwards, the database is whole, and a server started again serves them."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import sqlalchemy as sa

from copilot.store.database import open_engine
from copilot.store.tables import audit_log, drafts, transitions
from tests.servers import STARTUP_LIMIT_S, Servers

pytestmark = pytest.mark.integration

PAYOUT = "I requested a withdrawal of my Creator Rewards earnings three days ago and it still hasn't arrived."
ACKNOWLEDGED_BEFORE_KILL = 3  # decisions acknowledged before the kill: the writes in flight then are the test


def test_every_acknowledged_write_survives_a_kill_9_of_the_server(servers: Servers) -> None:
    server = servers()
    server.wait_until_up()
    made: list[str] = []  # drafts the client got 201 for
    decided: list[str] = []  # decisions the client got 201 for
    stopped = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=server.base, headers=server.headers, timeout=120) as http:
            n = 0
            while not stopped.is_set():
                n += 1
                try:
                    draft = http.post("/v1/suggest", json={"text": PAYOUT, "helpdesk_id": f"HD-kill-{n}"})
                    if draft.status_code != 201:
                        return
                    made.append(draft.json()["id"])
                    decision = http.post(f"/v1/drafts/{made[-1]}/decision", json={"kind": "approve"})
                    if decision.status_code == 201:
                        decided.append(made[-1])
                except httpx.TransportError:  # the server is gone: that request was never acknowledged
                    return

    client = threading.Thread(target=write)
    client.start()
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while len(decided) < ACKNOWLEDGED_BEFORE_KILL and client.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(decided) >= ACKNOWLEDGED_BEFORE_KILL, f"the client stopped early:\n{server.log.read_text()[-3000:]}"
    server.process.kill()  # SIGKILL: no shutdown, no flush
    server.process.wait(timeout=30)
    stopped.set()
    client.join(timeout=60)

    engine = open_engine(servers.database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
            kept = set(conn.execute(sa.select(drafts.c.id)).scalars())
            approved = set(conn.execute(sa.select(transitions.c.draft_id)).scalars())
            created = set(
                conn.execute(sa.select(audit_log.c.target).where(audit_log.c.action == "draft.created")).scalars()
            )
    finally:
        engine.dispose()
    assert set(made) <= kept, f"acknowledged drafts lost: {set(made) - kept}"
    assert set(decided) <= approved, f"acknowledged decisions lost: {set(decided) - approved}"
    assert kept <= created, "a draft is kept only with its audit entry"

    again = servers()
    again.wait_until_up()
    for draft_id in decided:
        answer = httpx.get(f"{again.base}/v1/drafts/{draft_id}", headers=again.headers, timeout=60)
        assert answer.status_code == 200 and answer.json()["status"] == "approved"
