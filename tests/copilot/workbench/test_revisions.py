"""The SOP workbench's steps on a copy of part of the library, a real index and a real database: a draft revision
changes nothing the copilot uses; publishing needs a raised version and the impact gate passed or overridden in
writing, writes the file and re-embeds only that document; a failed ingest puts the file back; rollback and
retirement publish new versions; every step is audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.domain.accounts import Actor
from copilot.domain.records import AuditAction
from copilot.domain.revisions import RevisionStatus
from copilot.pipeline import ingest, search_knowledge_base
from copilot.services import Services
from copilot.store.sop_revisions import RevisionNotDraft
from copilot.store.sop_versions import VersionNotFound
from copilot.workbench import revisions as workbench
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from knowledge_base.loader import SopError
from tests.factories import workbench_services

pytestmark = pytest.mark.integration

WRITER = Actor.operator("sol.writer")
NEW_STEP = "Check the Payout trace tool for a duplicate trace before opening a new one (zebra-lantern)."


@pytest.fixture
def bench(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> Iterator[Services]:
    services = workbench_services(tmp_path, embeddings)
    yield services
    services.store.close()


def file_of(services: Services, doc_id: str) -> Path:
    return services.settings.sop_dir / f"{doc_id}.md"


def edited(services: Services, doc_id: str, *, version: str | None, step: str = NEW_STEP) -> str:
    """The document's file with a step added to its Steps and, when given, a new version."""
    text = file_of(services, doc_id).read_text(encoding="utf-8")
    text = text.replace("## Never say or promise", f"10. {step}\n\n## Never say or promise", 1)
    if version:
        current = services.library.documents[doc_id].version
        text = text.replace(f"version: {current}", f"version: {version}", 1)
    return text


def test_a_draft_revision_is_kept_but_not_used_until_published(bench: Services) -> None:
    before = file_of(bench, "SOP-CR-03").read_bytes()
    revision = workbench.save_revision(
        "SOP-CR-03", edited(bench, "SOP-CR-03", version="1.1.0"), services=bench, by=WRITER
    )

    assert revision.status is RevisionStatus.DRAFT and revision.base_version == "1.0.2"
    assert file_of(bench, "SOP-CR-03").read_bytes() == before
    assert bench.library.documents["SOP-CR-03"].version == "1.0.2"
    assert all("zebra-lantern" not in p.text for p in bench.index.passages_of("SOP-CR-03"))
    listed = {d.id: d for d in workbench.documents(services=bench)}
    assert listed["SOP-CR-03"].open_drafts == 1 and listed["SOP-CR-04"].open_drafts == 0
    assert listed["SOP-CR-03"].last_reviewed is None
    [entry] = bench.audit.entries(action=AuditAction.SOP_REVISION_SAVED)
    assert entry.actor == "sol.writer" and entry.target == "SOP-CR-03" and entry.detail["revision"] == revision.id


def test_a_text_that_does_not_check_is_refused_with_the_field_and_line(bench: Services) -> None:
    text = file_of(bench, "SOP-CR-03").read_text(encoding="utf-8").replace("tier: T1", "tier: T9")

    with pytest.raises(workbench.RevisionInvalid) as refused:
        workbench.save_revision("SOP-CR-03", text, services=bench, by=WRITER)

    [problem] = refused.value.problems
    assert (problem.field, problem.line) == ("tier", text.splitlines().index("tier: T9") + 1)
    assert "unknown tier 'T9'" in problem.message
    assert bench.sop_revisions.of_document("SOP-CR-03") == []


def test_publishing_needs_the_impact_gate_passed_or_a_written_override(bench: Services) -> None:
    revision = workbench.save_revision(
        "SOP-CR-03", edited(bench, "SOP-CR-03", version="1.1.0"), services=bench, by=WRITER
    )

    with pytest.raises(workbench.PublishRefused, match="impact preview has not been run"):
        workbench.publish(revision.id, services=bench, by=WRITER)
    bench.sop_revisions.record_impact(revision.id, False, {"drafts_changed": 3})
    with pytest.raises(workbench.PublishRefused, match="impact preview has failed"):
        workbench.publish(revision.id, services=bench, by=WRITER, override_reason="   ")
    bench.sop_revisions.record_impact(revision.id, True, {"drafts_changed": 0})

    done = workbench.publish(revision.id, services=bench, by=WRITER)

    assert done.revision.status is RevisionStatus.PUBLISHED and done.revision.override_reason is None
    assert [e.detail["passed"] for e in bench.audit.entries(action=AuditAction.SOP_IMPACT_RECORDED)] == [True, False]


def test_publishing_writes_the_file_reembeds_only_that_document_and_keeps_the_old_version(bench: Services) -> None:
    old_text = file_of(bench, "SOP-CR-03").read_text(encoding="utf-8")
    revision = workbench.save_revision(
        "SOP-CR-03", edited(bench, "SOP-CR-03", version="1.1.0"), services=bench, by=WRITER
    )

    done = workbench.publish(revision.id, services=bench, by=WRITER, override_reason="typo fix, no reply changes")

    assert (done.version, done.previous_version) == ("1.1.0", "1.0.2")
    assert (
        done.report.updated == ["SOP-CR-03"]
        and done.report.added == []
        and sorted(done.report.unchanged)
        == [
            "POL-REWARDS",
            "SOP-CR-04",
            "SOP-CR-05",
        ]
    )
    assert file_of(bench, "SOP-CR-03").read_text(encoding="utf-8") == revision.text
    assert bench.library.documents["SOP-CR-03"].version == "1.1.0"
    found = search_knowledge_base("duplicate trace zebra-lantern", services=bench, k=3)
    assert found[0].doc_id == "SOP-CR-03" and found[0].doc_version == "1.1.0"
    assert bench.sop_versions.get("SOP-CR-03", "1.0.2").text == old_text  # an old draft's citation still opens
    assert bench.sop_revisions.get(revision.id).status is RevisionStatus.PUBLISHED
    [entry] = bench.audit.entries(action=AuditAction.SOP_PUBLISHED)
    assert entry.detail["override_reason"] == "typo fix, no reply changes"
    assert (entry.detail["version"], entry.detail["previous_version"], entry.detail["impact"]) == (
        "1.1.0",
        "1.0.2",
        "not run",
    )
    with pytest.raises(RevisionNotDraft):
        workbench.publish(revision.id, services=bench, by=WRITER, override_reason="again")


def test_publishing_refuses_a_version_that_did_not_go_up(bench: Services) -> None:
    before = file_of(bench, "SOP-CR-03").read_bytes()
    for version in (None, "1.0.1"):  # unchanged, and lower
        revision = workbench.save_revision(
            "SOP-CR-03", edited(bench, "SOP-CR-03", version=version), services=bench, by=WRITER
        )
        shown = version or "1.0.2"
        with pytest.raises(
            workbench.PublishRefused, match=rf"version {shown} .* not above the published version 1\.0\.2"
        ):
            workbench.publish(revision.id, services=bench, by=WRITER, override_reason="try")
        assert bench.sop_revisions.get(revision.id).status is RevisionStatus.DRAFT
    assert file_of(bench, "SOP-CR-03").read_bytes() == before


def test_a_broken_file_elsewhere_in_the_folder_stops_the_publish_and_keeps_the_draft(bench: Services) -> None:
    before = file_of(bench, "SOP-CR-03").read_bytes()
    revision = workbench.save_revision(
        "SOP-CR-03", edited(bench, "SOP-CR-03", version="1.1.0"), services=bench, by=WRITER
    )
    other = file_of(bench, "SOP-CR-04")  # another file, broken outside the console meanwhile
    other.write_text(other.read_text(encoding="utf-8").replace("tier: T1", "tier: T9"), encoding="utf-8")

    with pytest.raises(SopError, match=r"SOP-CR-04\.md: tier"):
        workbench.publish(revision.id, services=bench, by=WRITER, override_reason="urgent")

    assert file_of(bench, "SOP-CR-03").read_bytes() == before
    assert sorted(p.name for p in bench.settings.sop_dir.iterdir()) == sorted(
        ["taxonomy.yaml", "POL-REWARDS.md", "SOP-CR-03.md", "SOP-CR-04.md", "SOP-CR-05.md"]
    )  # no temporary file left behind
    assert bench.sop_revisions.get(revision.id).status is RevisionStatus.DRAFT
    assert bench.library.documents["SOP-CR-03"].version == "1.0.2"
    assert all("zebra-lantern" not in p.text for p in bench.index.passages_of("SOP-CR-03"))
    assert bench.audit.entries(action=AuditAction.SOP_PUBLISHED) == []


def test_a_discarded_revision_cannot_be_published(bench: Services) -> None:
    revision = workbench.save_revision(
        "SOP-CR-03", edited(bench, "SOP-CR-03", version="1.1.0"), services=bench, by=WRITER
    )

    assert workbench.discard(revision.id, services=bench, by=WRITER).status is RevisionStatus.DISCARDED
    with pytest.raises(RevisionNotDraft, match="discarded"):
        workbench.publish(revision.id, services=bench, by=WRITER, override_reason="changed my mind")
    with pytest.raises(RevisionNotDraft):
        workbench.discard(revision.id, services=bench, by=WRITER)
    assert [e.target for e in bench.audit.entries(action=AuditAction.SOP_DISCARDED)] == ["SOP-CR-03"]


def test_the_diff_is_against_the_published_file(bench: Services) -> None:
    revision = workbench.save_revision(
        "SOP-CR-03", edited(bench, "SOP-CR-03", version="1.1.0"), services=bench, by=WRITER
    )

    found = workbench.diff(revision, services=bench)

    assert (found.published_version, found.revision_version) == ("1.0.2", "1.1.0")
    changed = [line for line in found.unified.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-version: 1.0.2", "+version: 1.1.0", f"+10. {NEW_STEP}", "+"]
    assert [(r.old, r.new) for r in found.rows if r.kind == "changed"] == [("version: 1.0.2", "version: 1.1.0")]
    assert sum(r.kind == "added" for r in found.rows) == 2


def test_rolling_back_publishes_the_kept_text_under_the_next_patch_version(bench: Services) -> None:
    original = file_of(bench, "SOP-CR-03").read_text(encoding="utf-8")
    revision = workbench.save_revision(
        "SOP-CR-03", edited(bench, "SOP-CR-03", version="1.1.0"), services=bench, by=WRITER
    )
    workbench.publish(revision.id, services=bench, by=WRITER, override_reason="new step")

    done = workbench.rollback("SOP-CR-03", "1.0.2", services=bench, by=WRITER)

    assert (done.version, done.previous_version) == ("1.1.1", "1.1.0")
    assert file_of(bench, "SOP-CR-03").read_text(encoding="utf-8") == original.replace(
        "version: 1.0.2", "version: 1.1.1"
    )
    assert all("zebra-lantern" not in p.text for p in bench.index.passages_of("SOP-CR-03"))
    assert bench.sop_versions.version_numbers()["SOP-CR-03"] == ["1.0.2", "1.1.0", "1.1.1"]
    [entry] = bench.audit.entries(action=AuditAction.SOP_ROLLED_BACK)
    assert entry.detail["override_reason"] == "rollback to 1.0.2" and entry.detail["version"] == "1.1.1"
    with pytest.raises(workbench.PublishRefused, match=r"at version 1\.1\.1 already"):
        workbench.rollback("SOP-CR-03", "1.1.1", services=bench, by=WRITER)
    with pytest.raises(VersionNotFound):
        workbench.rollback("SOP-CR-03", "0.9.0", services=bench, by=WRITER)


def test_retiring_lists_the_documents_that_refer_to_it_and_needs_confirming(bench: Services) -> None:
    with pytest.raises(workbench.RetireNeedsConfirmation) as asked:
        workbench.retire("SOP-CR-05", services=bench, by=WRITER, confirm=False)
    assert [r.doc_id for r in asked.value.referrers] == ["SOP-CR-03", "SOP-CR-04"]
    assert bench.library.documents["SOP-CR-05"].status == "active"

    done = workbench.retire("SOP-CR-05", services=bench, by=WRITER, confirm=True)

    assert done.published.version == "1.0.1" and done.published.report.removed == ["SOP-CR-05"]
    [retired] = [d for d in workbench.documents(services=bench) if d.id == "SOP-CR-05"]
    assert retired.status == "retired" and retired.version == "1.0.1" and not retired.in_force
    assert "SOP-CR-05" not in {d.id for d in bench.library.active()} and bench.index.passages_of("SOP-CR-05") == []
    [entry] = bench.audit.entries(action=AuditAction.SOP_RETIRED)
    assert entry.detail["referrers"] == [str(r) for r in done.referrers]
    with pytest.raises(workbench.PublishRefused, match="retired already"):
        workbench.retire("SOP-CR-05", services=bench, by=WRITER, confirm=True)


def test_a_new_document_is_published_and_retired_without_confirming_when_nothing_refers_to_it(
    bench: Services,
) -> None:
    text = (
        file_of(bench, "SOP-CR-04")
        .read_text(encoding="utf-8")
        .replace("id: SOP-CR-04", "id: SOP-CR-99")
        .replace("intents: [payment_method_update]", "intents: []")
    )
    revision = workbench.save_revision("SOP-CR-99", text, services=bench, by=WRITER)
    assert revision.base_version is None and workbench.diff(revision, services=bench).published_version is None

    done = workbench.publish(revision.id, services=bench, by=WRITER, override_reason="new procedure")

    assert done.previous_version is None and done.report.added == ["SOP-CR-99"]
    assert file_of(bench, "SOP-CR-99").exists()
    assert workbench.retire("SOP-CR-99", services=bench, by=WRITER, confirm=False).referrers == []


def test_a_file_edited_outside_the_workbench_is_picked_up_by_the_next_ingest(bench: Services) -> None:
    path = file_of(bench, "SOP-CR-03")
    path.write_text(edited(bench, "SOP-CR-03", version="1.2.0"), encoding="utf-8")

    report = ingest(bench, by=WRITER)

    assert report.updated == ["SOP-CR-03"] and bench.library.documents["SOP-CR-03"].version == "1.2.0"
    assert [d.version for d in workbench.documents(services=bench) if d.id == "SOP-CR-03"] == ["1.2.0"]
