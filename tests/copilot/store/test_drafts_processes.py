"""One SQLite file written by several processes at once, as by the workers of `copilot serve --workers N`:
no write fails for a lock, and each draft keeps exactly one decision however many processes race for it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from copilot.store.drafts import DraftStore
from tests.factories import a_draft

pytestmark = pytest.mark.integration

PROCESSES = 4
DRAFTS = 30

# Each process waits for the start file, then saves drafts of its own and tries to decide every shared
# draft; it prints how many decisions it won and lost, and any other error fails it.
RACER = """
import json, random, sys, time, uuid
from pathlib import Path
from copilot.domain import Decision, DecisionKind
from copilot.domain.approval import AlreadyDecided
from copilot.store.drafts import DraftStore
sys.path.insert(0, sys.argv[4])
from tests.factories import a_draft

url, start, shared, me = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[5]
store = DraftStore(url)
while not start.exists():
    time.sleep(0.01)
won = lost = 0
random.shuffle(shared)
for n, draft_id in enumerate(shared):
    store.save(a_draft().model_copy(update={"id": f"DRF-{uuid.uuid4().hex[:12]}"}))
    try:
        store.decide(draft_id, Decision(kind=DecisionKind.APPROVE, actor=me))
        won += 1
    except AlreadyDecided:
        lost += 1
print(json.dumps({"won": won, "lost": lost}))
"""


def test_racing_processes_leave_one_decision_per_draft_and_no_lock_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'copilot.db'}"
    store = DraftStore(url)
    shared = [store.save(a_draft().model_copy(update={"id": f"DRF-{uuid.uuid4().hex[:12]}"})).id for _ in range(DRAFTS)]
    start = tmp_path / "start"
    root = str(Path(__file__).resolve().parents[3])
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, url, str(start), json.dumps(shared), root, f"agent-{n}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    time.sleep(3)  # every process has opened the database and waits at the start line
    start.touch()
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        assert racer.returncode == 0, err
        results.append(json.loads(out))

    assert sum(r["won"] for r in results) == DRAFTS
    assert sum(r["lost"] for r in results) == DRAFTS * (PROCESSES - 1)
    for draft_id in shared:
        assert len(store.transitions(draft_id)) == 1
    assert sum(1 for _ in store.decided()) == DRAFTS
    with store.engine.connect() as conn:
        saved = conn.exec_driver_sql("SELECT count(*) FROM drafts").scalar_one()
    assert saved == DRAFTS + PROCESSES * DRAFTS, "every process's own drafts were saved too"
    store.close()
