"""Change-impact preview: what an SOP edit would change, replayed before it is published.

The edited document is chunked and embedded on its own and laid over the published library snapshot, giving a
candidate library that nothing serves. The eval cases that touch the document (it is expected, retrieved, or the
SOP whose templates state its figures is) and the most recent decided drafts of real traffic that cited it are
drafted against both libraries, from the same triage. The report gives, per ticket, whether the chosen SOP,
template or action changed, the text diff and the verification problems that appear or disappear; and, over the
replayed eval cases, the gated metrics of both libraries. The verdict: no gated metric moves the wrong way by more
than its tolerance in evals/thresholds.yaml (by nothing, for a metric without one). The absolute levels are not
applied: on the few cases one document touches they measure the cases, not the edit.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from copilot.domain import Draft, Ticket, Triage
from copilot.domain.accounts import Actor
from copilot.domain.placeholders import figures_used
from copilot.domain.revisions import RevisionStatus
from copilot.pipeline import compose_draft, retrieve_for, triage_batch
from copilot.services import Services
from copilot.store.sop_revisions import RevisionNotDraft
from evals.cases.schemas import GoldenCase, SafetyCase
from evals.cases.validate import read_cases
from evals.results import SuiteResult
from evals.run.gate import Limit, load_thresholds
from evals.run.runner import Datasets
from evals.suites.reply import reply_suite
from evals.suites.retrieval import RECALL_AT, retrieval_suite
from evals.suites.safety import safety_suite
from knowledge_base.checking import check_markdown
from knowledge_base.chunking import chunk_document
from knowledge_base.loader import SopError
from knowledge_base.snapshot import LibraryHolder, LibrarySnapshot

THRESHOLDS = "thresholds.yaml"  # beside the datasets' parent: evals/thresholds.yaml


@dataclass(frozen=True)
class Outcome:
    """What a draft did, as far as an edit to the library can change it."""

    sop: str | None  # the document its first citation names: the SOP it follows
    template: str | None
    action: str
    text: str
    problems: tuple[str, ...]

    @classmethod
    def of(cls, draft: Draft) -> Outcome:
        return cls(
            sop=draft.citations[0].doc_id if draft.citations else None,
            template=draft.template,
            action=draft.action.value,
            text=draft.reply or "",
            problems=tuple(sorted(f"{p.kind.value}: {p.detail}" for p in draft.problems)),
        )


@dataclass(frozen=True)
class TicketImpact:
    ticket_id: str
    source: str  # "golden", "safety" or "traffic"
    language: str
    before: Outcome
    after: Outcome

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def to_dict(self) -> dict[str, Any]:
        b, a = self.before, self.after
        return {
            "ticket_id": self.ticket_id,
            "source": self.source,
            "language": self.language,
            "sop": [b.sop, a.sop],
            "template": [b.template, a.template],
            "action": [b.action, a.action],
            "sop_changed": b.sop != a.sop,
            "template_changed": b.template != a.template,
            "action_changed": b.action != a.action,
            "text_diff": list(
                difflib.unified_diff(b.text.splitlines(), a.text.splitlines(), "published", "edited", lineterm="", n=1)
            ),
            "problems_added": sorted(set(a.problems) - set(b.problems)),
            "problems_removed": sorted(set(b.problems) - set(a.problems)),
        }


@dataclass(frozen=True)
class MetricDelta:
    suite: str
    metric: str
    before: float | None
    after: float | None
    limit: str  # ">= 0.9" or "<= 0"
    tolerance: float

    @property
    def regressed(self) -> bool:
        """Moved the wrong way beyond the tolerance, or measured before and not after."""
        if self.before is None:
            return False
        if self.after is None:
            return True
        worse = self.before - self.after if self.limit.startswith(">=") else self.after - self.before
        return worse > self.tolerance + 1e-9


@dataclass
class ImpactReport:
    doc_id: str
    published_version: str | None
    edited_version: str
    tickets: list[TicketImpact] = field(default_factory=list)
    metrics: list[MetricDelta] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> list[TicketImpact]:
        return [t for t in self.tickets if t.changed]

    @property
    def gate_passed(self) -> bool:
        return not any(m.regressed for m in self.metrics)

    def to_dict(self) -> dict[str, Any]:
        """The report as the API returns it and a draft revision keeps it."""
        return {
            "doc_id": self.doc_id,
            "published_version": self.published_version,
            "edited_version": self.edited_version,
            "replayed": {s: sum(t.source == s for t in self.tickets) for s in ("golden", "safety", "traffic")},
            "changed": [t.to_dict() for t in self.changed],
            "metrics": [
                {
                    "suite": m.suite,
                    "metric": m.metric,
                    "published": m.before,
                    "edited": m.after,
                    "limit": m.limit,
                    "tolerance": m.tolerance,
                    "regressed": m.regressed,
                }
                for m in self.metrics
            ],
            "gate_passed": self.gate_passed,
            "seconds": round(self.seconds, 2),
        }


def preview_impact(
    doc_id: str, text: str, *, services: Services, datasets: Datasets | None = None, recent: int | None = None
) -> ImpactReport:
    """Replay what the edit `text` of `doc_id` touches against the published library and against the library with
    the edit in it. Raises SopError naming the field and line when the text cannot be published."""
    started = time.perf_counter()
    published = services.snapshot()
    checked = check_markdown(text, doc_id=doc_id, taxonomy=services.taxonomy, library=published.library)
    if checked.document is None or checked.problems:
        first = checked.problems[0]
        raise SopError(str(first))
    edited = checked.document
    candidate = _candidate(published, edited, services=services)
    files = datasets or Datasets.shipped(services.settings.datasets_dir)
    golden = read_cases(files.golden, GoldenCase)
    safety = read_cases(files.safety, SafetyCase)
    tickets = [Ticket(id=c.id, text=c.text) for c in golden] + [Ticket(id=c.id, text=c.text) for c in safety]
    labels = dict(zip((t.id for t in tickets), triage_batch(tickets, services=services)))
    expected = {c.id: set(c.expected_sop_ids) for c in golden}
    touched = _touching(doc_id, tickets, labels, expected, published, candidate, services=services)
    golden = [c for c in golden if c.id in touched]
    safety = [c for c in safety if c.id in touched]
    before_services, after_services = _pinned(services, published), _pinned(services, candidate)
    report = ImpactReport(
        doc_id=doc_id,
        published_version=(old.version if (old := published.library.documents.get(doc_id)) else None),
        edited_version=edited.version,
    )
    drafts: dict[str, tuple[list[Draft], list[Draft]]] = {}
    for source, languages in (
        ("golden", {c.id: c.language for c in golden}),
        ("safety", {c.id: c.language for c in safety}),
    ):
        replayed = [t for t in tickets if t.id in languages]
        pairs = _replay(
            replayed, [labels[t.id] for t in replayed], services=services, published=published, candidate=candidate
        )
        drafts[source] = ([b for b, _ in pairs], [a for _, a in pairs])
        report.tickets += [_impact(t.id, source, languages[t.id], b, a) for t, (b, a) in zip(replayed, pairs)]
    traffic = services.store.recent_decided_citing(doc_id, limit=recent or services.settings.impact_recent_drafts)
    pairs = _replay(
        [Ticket(id=d.ticket_id, text=d.ticket_text) for d in traffic],
        [d.triage for d in traffic],
        services=services,
        published=published,
        candidate=candidate,
    )
    report.tickets += [_impact(d.ticket_id, "traffic", d.language, b, a) for d, (b, a) in zip(traffic, pairs)]
    results_before = _suites(before_services, golden, safety, drafts, labels, side=0, dataset=str(files.golden))
    results_after = _suites(after_services, golden, safety, drafts, labels, side=1, dataset=str(files.golden))
    limits = load_thresholds(files.golden.parent.parent / THRESHOLDS)
    report.metrics = list(_deltas(results_before, results_after, limits))
    report.seconds = time.perf_counter() - started
    return report


def _candidate(published: LibrarySnapshot, edited: Any, *, services: Services) -> LibrarySnapshot:
    """The published library with the edited document in place of its published version (or without it, when
    the edit retires it)."""
    chunks = chunk_document(edited, max_tokens=services.settings.chunk_tokens) if edited.status == "active" else []
    vectors = np.asarray(services.embeddings.embed_documents([c.text for c in chunks]) if chunks else [])
    return published.with_documents([edited], [(c.chunk_id, c.text, c.metadata) for c in chunks], vectors)


def _dependents(doc_id: str, library_snapshots: Iterable[LibrarySnapshot]) -> set[str]:
    """The document and every SOP whose templates state a figure it defines, in either library."""
    out = {doc_id}
    for snapshot in library_snapshots:
        library = snapshot.library
        defined = {key for key, f in library.figures.items() if f.doc_id == doc_id}
        out |= {
            d.id for d in library.documents.values() if any(set(figures_used(t.body)) & defined for t in d.templates)
        }
    return out


def _touching(
    doc_id: str,
    tickets: list[Ticket],
    labels: dict[str, Triage],
    expected: dict[str, set[str]],
    published: LibrarySnapshot,
    candidate: LibrarySnapshot,
    *,
    services: Services,
) -> set[str]:
    """Ids of the eval tickets that touch the document: expected, or retrieved from either library (the document
    or an SOP stating its figures)."""
    dependents = _dependents(doc_id, (published, candidate))
    depth = max(services.settings.top_k, *RECALL_AT)
    # One batch for every ticket's vector: selecting tickets does not need the single-query vectors drafts use.
    vectors = services.embeddings.embed_documents([t.text for t in tickets])
    touched = set()
    for ticket, vector in zip(tickets, vectors):
        retrieved = {
            p.doc_id
            for snapshot in (published, candidate)
            for p in retrieve_for(
                ticket, labels[ticket.id], services=services, k=depth, snapshot=snapshot, query_vector=vector
            )
        }
        if (expected.get(ticket.id, set()) | retrieved) & dependents:
            touched.add(ticket.id)
    return touched


def _replay(
    tickets: list[Ticket],
    labels: list[Triage],
    *,
    services: Services,
    published: LibrarySnapshot,
    candidate: LibrarySnapshot,
) -> list[tuple[Draft, Draft]]:
    return [
        (
            compose_draft(ticket, triage, services=services, snapshot=published),
            compose_draft(ticket, triage, services=services, snapshot=candidate),
        )
        for ticket, triage in zip(tickets, labels)
    ]


def _impact(ticket_id: str, source: str, language: str, before: Draft, after: Draft) -> TicketImpact:
    return TicketImpact(ticket_id, source, language, Outcome.of(before), Outcome.of(after))


def _pinned(services: Services, snapshot: LibrarySnapshot) -> Services:
    """The services reading one library snapshot whatever the index holds: the suites measure that library."""
    return replace(services, snapshots=LibraryHolder(read=lambda: snapshot, stamp=lambda: snapshot.fingerprint))


def _suites(
    services: Services,
    golden: list[GoldenCase],
    safety: list[SafetyCase],
    drafts: dict[str, tuple[list[Draft], list[Draft]]],
    labels: dict[str, Triage],
    *,
    side: int,
    dataset: str,
) -> dict[str, SuiteResult]:
    results = {}
    if golden:
        results["retrieval"] = retrieval_suite(
            services, golden, dataset=dataset, k=services.settings.top_k, labels=labels
        )
        results["reply"] = reply_suite(services, golden, drafts["golden"][side], dataset=dataset)
    if safety:
        results["safety"] = safety_suite(services, safety, drafts["safety"][side], dataset=dataset)
    return results


def _deltas(
    before: dict[str, SuiteResult], after: dict[str, SuiteResult], limits: dict[str, dict[str, Limit]]
) -> Iterable[MetricDelta]:
    for suite, result in before.items():
        for metric, limit in limits.get(suite, {}).items():
            if metric not in result.metrics and metric not in after[suite].metrics:
                continue
            yield MetricDelta(
                suite=suite,
                metric=metric,
                before=_value(result, metric),
                after=_value(after[suite], metric),
                limit=str(limit),
                tolerance=limit.tolerance or 0.0,
            )


def _value(result: SuiteResult, metric: str) -> float | None:
    return result.metrics.get(metric)


def preview_revision(revision_id: int, *, services: Services, by: Actor) -> ImpactReport:
    """The impact preview of a draft revision, its verdict kept on the revision (publishing needs it passed, or a
    written override). Raises RevisionNotFound, RevisionNotDraft, SopError."""
    revision = services.sop_revisions.get(revision_id)
    if revision.status is not RevisionStatus.DRAFT:
        raise RevisionNotDraft(f"revision {revision_id} is {revision.status.value}: there is nothing to preview")
    report = preview_impact(revision.doc_id, revision.text, services=services)
    services.sop_revisions.record_impact(revision_id, report.gate_passed, report.to_dict(), by=by)
    return report
