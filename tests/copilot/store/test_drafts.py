"""The draft store's contract, run against SQLite and, when reachable, the PostgreSQL server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from copilot.domain import Decision, DecisionKind, DraftStatus, RejectReason
from copilot.domain.approval import AlreadyDecided
from copilot.domain.drafts import Problem, ProblemKind
from copilot.store.drafts import DraftNotFound, DraftStore
from copilot.store.tables import drafts
from tests.factories import a_draft

pytestmark = pytest.mark.integration


@pytest.fixture
def store(database_url: str) -> Iterator[DraftStore]:
    draft_store = DraftStore(database_url)
    yield draft_store
    draft_store.close()


def fresh_draft():  # type: ignore[no-untyped-def]
    return a_draft().model_copy(update={"id": f"DRF-{uuid.uuid4().hex[:12]}"})


def test_a_saved_draft_reads_back_whole_and_pending(store: DraftStore) -> None:
    draft = store.save(fresh_draft())
    assert store.get(draft.id) == draft
    assert store.get(draft.id).status is DraftStatus.PENDING


def test_an_unknown_draft_is_reported_by_id(store: DraftStore) -> None:
    with pytest.raises(DraftNotFound, match="DRF-missing"):
        store.get("DRF-missing")


def test_a_decision_is_recorded_with_who_when_and_sop_versions(store: DraftStore) -> None:
    draft = store.save(fresh_draft())
    store.decide(
        draft.id, Decision(kind=DecisionKind.REJECT, actor="agent-3", reason=RejectReason.TONE, note="too curt")
    )
    assert store.get(draft.id).status is DraftStatus.REJECTED
    [kept] = store.transitions(draft.id)
    assert (kept.actor, kept.reason, kept.note) == ("agent-3", RejectReason.TONE, "too curt")
    assert kept.sop_versions == {"SOP-CR-03": "1.2.0"}
    assert kept.at.tzinfo is not None


def test_a_second_decision_is_refused_and_the_first_is_kept(store: DraftStore) -> None:
    draft = store.save(fresh_draft())
    store.decide(draft.id, Decision(kind=DecisionKind.APPROVE, actor="agent-1"))
    with pytest.raises(AlreadyDecided, match="already approved"):
        store.decide(draft.id, Decision(kind=DecisionKind.EDIT, actor="agent-2", final_text="other"))
    assert store.get(draft.id).status is DraftStatus.APPROVED
    assert [t.actor for t in store.transitions(draft.id)] == ["agent-1"]


def test_two_agents_deciding_at_once_leave_exactly_one_decision(store: DraftStore) -> None:
    draft = store.save(fresh_draft())
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def agent(name: str) -> None:
        barrier.wait()
        try:
            store.decide(draft.id, Decision(kind=DecisionKind.APPROVE, actor=name))
            outcomes.append("won")
        except AlreadyDecided:
            outcomes.append("conflict")

    threads = [threading.Thread(target=agent, args=(n,)) for n in ("agent-a", "agent-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    assert len(store.transitions(draft.id)) == 1


def test_saving_a_draft_id_twice_is_refused_without_overwriting(store: DraftStore) -> None:
    draft = store.save(fresh_draft())
    with pytest.raises(ValueError, match="already exists"):
        store.save(draft.model_copy(update={"reply": "changed"}))
    assert store.get(draft.id).reply == draft.reply


def test_decided_drafts_are_listed_with_their_decisions(store: DraftStore) -> None:
    first, second = store.save(fresh_draft()), store.save(fresh_draft())
    store.decide(second.id, Decision(kind=DecisionKind.APPROVE, actor="agent-1"))
    decided = [(d.id, t.to_status) for d, t in store.decided()]
    assert (second.id, DraftStatus.APPROVED) in decided
    assert first.id not in [d for d, _ in decided]


UNGROUNDED = "states 47, which no cited passage and not the ticket states"


def test_a_draft_reads_back_with_its_typed_problems(store: DraftStore) -> None:
    problem = Problem(kind=ProblemKind.UNGROUNDED_FIGURE, detail=UNGROUNDED, figure="47")
    draft = store.save(fresh_draft().model_copy(update={"problems": [problem]}))
    assert store.get(draft.id).problems == [problem]
    assert not store.get(draft.id).verified


def test_a_draft_stored_with_problems_as_sentences_still_loads(store: DraftStore) -> None:
    """Drafts stored before problems were typed hold plain sentences: each reads back as a legacy problem."""
    draft = fresh_draft()
    payload = draft.model_dump(mode="json") | {"problems": [UNGROUNDED]}
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(drafts).values(
                id=draft.id,
                ticket_id=draft.ticket_id,
                status=draft.status.value,
                action=draft.action.value,
                created_at=draft.created_at,
                payload=payload,
            )
        )
    loaded = store.get(draft.id)
    assert loaded.problems == [Problem(kind=ProblemKind.LEGACY, detail=UNGROUNDED)]
    assert not loaded.verified
    store.decide(draft.id, Decision(kind=DecisionKind.APPROVE, actor="agent-1"))
    assert [(d.id, d.problems[0].detail) for d, _ in store.decided() if d.id == draft.id] == [(draft.id, UNGROUNDED)]
