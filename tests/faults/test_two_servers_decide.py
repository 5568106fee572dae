"""Two server processes on one database, two agents deciding the same draft at the same moment, one on each:
exactly one decision is kept and answered 201, the other is answered 409, whichever process gets there first."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.servers import Server, Servers

pytestmark = pytest.mark.integration

PAYOUT = "my withdrawal from oct 3 still has not arrived"
ROUNDS = 4


def test_concurrent_decisions_on_two_processes_leave_exactly_one(servers: Servers) -> None:
    a, b = servers(), servers()
    a.wait_until_up()
    b.wait_until_up()
    for n in range(ROUNDS):
        made = httpx.post(f"{a.base}/v1/suggest", json={"text": PAYOUT}, headers=a.headers, timeout=120)
        assert made.status_code == 201, made.text
        draft_id = made.json()["id"]
        together = threading.Barrier(2)

        def decide(
            server: Server, body: dict[str, str], draft_id: str = draft_id, together: threading.Barrier = together
        ) -> httpx.Response:
            together.wait()  # both requests leave at once, one to each process
            url = f"{server.base}/v1/drafts/{draft_id}/decision"
            return httpx.post(url, json=body, headers=server.headers, timeout=120)

        with ThreadPoolExecutor(2) as pool:
            approve = pool.submit(decide, a, {"kind": "approve"})
            reject = pool.submit(decide, b, {"kind": "reject", "reason": "tone"})
            answers = [approve.result(), reject.result()]
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
        loser = next(r for r in answers if r.status_code == 409)
        assert "is already" in loser.json()["detail"] and "decided once" in loser.json()["detail"]
        winner = next(r for r in answers if r.status_code == 201).json()
        for server in (a, b):
            history = httpx.get(f"{server.base}/v1/drafts/{draft_id}/history", headers=server.headers, timeout=60)
            assert [t["to_status"] for t in history.json()] == [winner["to_status"]], f"round {n}"
