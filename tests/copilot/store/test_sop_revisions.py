"""The draft-revision store on SQLite and PostgreSQL: a revision is saved, judged by the impact preview, and decided
once; every write is audited in its own transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from copilot.domain.accounts import Actor
from copilot.domain.records import AuditAction
from copilot.domain.revisions import RevisionStatus
from copilot.store.audit import AuditLog
from copilot.store.database import open_engine
from copilot.store.sop_revisions import RevisionNotDraft, RevisionNotFound, SopRevisionStore

pytestmark = pytest.mark.integration

WRITER = Actor.operator("sol.writer")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    yield engine
    engine.dispose()


def test_a_revision_is_saved_judged_and_published_once(engine: Engine) -> None:
    store, audit = SopRevisionStore(engine), AuditLog(engine)
    first = store.save("SOP-CR-03", "---\nid: SOP-CR-03\n---\n", base_version="1.0.2", by=WRITER)
    second = store.save("SOP-CR-03", "second", base_version="1.0.2", by=WRITER)
    store.save("SOP-NEW-01", "new", base_version=None, by=WRITER)

    assert [r.id for r in store.of_document("SOP-CR-03")] == [second.id, first.id]
    assert store.drafts_per_document() == {"SOP-CR-03": 2, "SOP-NEW-01": 1}
    assert first.gate == "not run" and first.created_by == "sol.writer" and first.created_at.tzinfo is not None

    judged = store.record_impact(first.id, False, {"eval": {"reply_accuracy": -0.02}})
    assert judged.gate == "failed" and judged.impact_summary == {"eval": {"reply_accuracy": -0.02}}

    published = store.decide(
        first.id, RevisionStatus.PUBLISHED, by=WRITER, action=AuditAction.SOP_PUBLISHED, override_reason="hotfix"
    )
    assert (published.status, published.decided_by, published.override_reason) == (
        RevisionStatus.PUBLISHED,
        "sol.writer",
        "hotfix",
    )
    assert store.drafts_per_document() == {"SOP-CR-03": 1, "SOP-NEW-01": 1}
    with pytest.raises(RevisionNotDraft, match="published, not a draft"):
        store.decide(first.id, RevisionStatus.DISCARDED, by=WRITER, action=AuditAction.SOP_DISCARDED)
    with pytest.raises(RevisionNotDraft):
        store.record_impact(first.id, True, {})
    with pytest.raises(RevisionNotFound, match="no SOP revision with id 999"):
        store.get(999)

    actions = [e.action for e in reversed(audit.entries(target="SOP-CR-03"))]
    assert actions == [
        AuditAction.SOP_REVISION_SAVED,
        AuditAction.SOP_REVISION_SAVED,
        AuditAction.SOP_IMPACT_RECORDED,
        AuditAction.SOP_PUBLISHED,
    ]
    assert audit.entries(action=AuditAction.SOP_PUBLISHED)[0].detail == {
        "revision": first.id,
        "override_reason": "hotfix",
    }
