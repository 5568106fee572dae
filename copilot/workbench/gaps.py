"""Gaps in the SOP library: the tickets the copilot could not answer well, clustered by topic.

A ticket is a gap when its newest draft asked a clarifying question, triage abstained (routing to a human) or
called it out of scope, retrieval was too weak to answer, or an agent rejected one of its drafts as the wrong
SOP or incomplete; from an eval run's report also a case whose expected SOP was not retrieved. Real traffic and
the eval runs' drafts both count (each ticket says which it is).

Topics: the tickets' embeddings (the bundle's embedder) clustered by agglomerative clustering with average
linkage under a cosine distance threshold (`gap_cluster_distance`). Not k-means: the number of topics is what we
want to learn, gap tickets are few (tens to hundreds, so the O(n²) distances are cheap), and a distance threshold
means the same thing whatever the traffic ("these tickets read alike"), where a k chosen by silhouette swings
with a handful of tickets. Each cluster shows its three tickets nearest its centroid (masked: ticket text is
personal data) and the SOP that retrieval finds best for them.

Also counted: tickets whose language the chosen SOP has no template for, per document and language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field
from sklearn.cluster import AgglomerativeClustering

from copilot.domain import Draft, DraftAction, Routing
from copilot.domain.drafts import RejectReason
from copilot.domain.personal_data import HIDDEN, masked_text, personal_spans, replace_spans
from copilot.drafting.plan import WEAK_RETRIEVAL
from copilot.pipeline import search_knowledge_base
from copilot.services import Services
from copilot.workbench.usage import KeptDrafts, eval_cases, kept_drafts, latest_per_ticket, sop_of
from evals.results import EvalRun

SHOWN_CHARS = 240  # of a ticket's masked text on a report
REPRESENTATIVES = 3
REJECTED_AS_GAP = {RejectReason.WRONG_POLICY: "rejected_wrong_sop", RejectReason.INCOMPLETE: "rejected_incomplete"}


class GapTicket(BaseModel):
    ticket_id: str
    source: str = Field(description="traffic: a real ticket; eval: an eval case as an eval run drafted it.")
    text: str = Field(description="Masked: contact details and secrets hidden, cut to a few lines.")
    language: str
    intent: str
    reasons: list[str]


class GapCluster(BaseModel):
    size: int
    languages: dict[str, int]
    reasons: dict[str, int]
    intents: dict[str, int] = Field(description="What triage called its tickets.")
    sources: dict[str, int]
    ticket_ids: list[str] = Field(description="Every ticket of the cluster.")
    representatives: list[GapTicket] = Field(description="The tickets nearest the cluster's centroid.")
    nearest_sop: str | None = Field(description="The document retrieval finds best for the representatives.")
    nearest_score: float | None


class MissingLocale(BaseModel):
    doc_id: str
    language: str
    tickets: int


class GapReport(BaseModel):
    tickets: int = Field(description="Gap tickets considered.")
    sources: dict[str, int]
    reasons: dict[str, int]
    clusters: list[GapCluster] = Field(description="Largest first.")
    missing_locales: list[MissingLocale] = Field(description="Most tickets first.")


@dataclass
class _Gap:
    ticket_id: str
    source: str
    text: str
    language: str
    intent: str
    risk_flags: list[str]
    reasons: list[str]


def gaps(services: Services, *, eval_report: Path | None = None) -> GapReport:
    """The gap report over the records' drafts and, when given, an eval run's report (eval.json: its retrieval
    failures); raises ValueError for an unreadable report."""
    kept = kept_drafts(services, eval_cases(services))
    found = _gap_tickets(services, kept)
    if eval_report is not None:
        _add_missed_retrieval(found, eval_report, services)
    tickets = list(found.values())
    clusters = _cluster(services, tickets) if tickets else []
    return GapReport(
        tickets=len(tickets),
        sources=dict(Counter(t.source for t in tickets)),
        reasons=dict(Counter(r for t in tickets for r in t.reasons).most_common()),
        clusters=clusters,
        missing_locales=_missing_locales(services, kept),
    )


def gap_reasons(draft: Draft, *, out_of_scope: str) -> list[str]:
    """Why a ticket whose newest draft this is counts as a gap (empty: it does not)."""
    reasons = []
    if draft.action is DraftAction.CLARIFY:
        reasons.append("clarify")
    if draft.triage.routing is Routing.HUMAN:
        reasons.append("abstained")
    if draft.triage.intent == out_of_scope:
        reasons.append("out_of_scope")
    if any(w.startswith(WEAK_RETRIEVAL) for w in draft.warnings):
        reasons.append("weak_retrieval")
    return reasons


def _gap_tickets(services: Services, kept: KeptDrafts) -> dict[str, _Gap]:
    out_of_scope = services.taxonomy.out_of_scope.label
    rejected: dict[str, list[str]] = {}
    for draft in [*kept.traffic, *kept.eval_latest.values()]:
        decision = kept.decisions.get(draft.id)
        if decision is not None and decision.reason in REJECTED_AS_GAP:
            rejected.setdefault(draft.ticket_id, []).append(REJECTED_AS_GAP[decision.reason])
    found: dict[str, _Gap] = {}
    for source, drafts in (("traffic", latest_per_ticket(kept.traffic)), ("eval", kept.eval_latest)):
        for ticket_id, draft in drafts.items():
            reasons = gap_reasons(draft, out_of_scope=out_of_scope)
            reasons += sorted(set(rejected.get(ticket_id, [])))
            if reasons:
                labels = draft.triage
                found[ticket_id] = _Gap(
                    ticket_id, source, draft.ticket_text, labels.language, labels.intent, labels.risk_flags, reasons
                )
    return found


def _add_missed_retrieval(found: dict[str, _Gap], report: Path, services: Services) -> None:
    try:
        run = EvalRun.model_validate_json(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{report}: not an eval run's eval.json: {str(exc).splitlines()[0]}") from exc
    retrieval = run.suites.get("retrieval")
    cases = {c.id: c for c in eval_cases(services).golden}
    for failure in retrieval.failures if retrieval else []:
        gap = found.get(failure.case_id)
        if gap is None:
            case = cases.get(failure.case_id)
            gap = _Gap(
                failure.case_id,
                "eval",
                failure.ticket,
                case.language if case else "?",
                case.intent if case else "?",
                case.risk_flags if case else [],
                [],
            )
            found[failure.case_id] = gap
        if "missed_sop" not in gap.reasons:
            gap.reasons.append("missed_sop")


def _cluster(services: Services, tickets: list[_Gap]) -> list[GapCluster]:
    """Tickets grouped by topic, largest group first."""
    vectors = _unit(np.asarray(services.embeddings.embed_documents([t.text for t in tickets]), dtype=np.float64))
    if len(tickets) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        labels = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=services.settings.gap_cluster_distance,
        ).fit_predict(vectors)
    clusters = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        centroid = _unit(vectors[members].mean(axis=0, keepdims=True))[0]
        nearest = members[np.argsort(-(vectors[members] @ centroid), kind="stable")][:REPRESENTATIVES]
        group = [tickets[i] for i in members]
        shown = [tickets[i] for i in nearest]
        doc_id, score = _nearest_sop(services, [t.text for t in shown])
        clusters.append(
            GapCluster(
                size=len(group),
                languages=_counts(t.language for t in group),
                reasons=_counts(r for t in group for r in t.reasons),
                intents=_counts(t.intent for t in group),
                sources=_counts(t.source for t in group),
                ticket_ids=[t.ticket_id for t in group],
                representatives=[_shown(t, services) for t in shown],
                nearest_sop=doc_id,
                nearest_score=score,
            )
        )
    return sorted(clusters, key=lambda c: -c.size)


def _nearest_sop(services: Services, texts: list[str]) -> tuple[str | None, float | None]:
    """The document whose best passage scores highest summed over the texts (a SOP before a policy on a tie)."""
    totals: Counter[str] = Counter()
    for text in texts:
        best: dict[str, float] = {}
        for passage in search_knowledge_base(text, services=services, k=5):
            best[passage.doc_id] = max(best.get(passage.doc_id, 0.0), passage.score)
        totals.update(best)
    if not totals:
        return None, None
    doc_id, total = max(totals.items(), key=lambda kv: (kv[1], kv[0].startswith("SOP-")))
    return doc_id, round(total / len(texts), 3)


def _shown(gap: _Gap, services: Services) -> GapTicket:
    return GapTicket(
        ticket_id=gap.ticket_id,
        source=gap.source,
        text=shown_text(gap.text, gap.risk_flags, services),
        language=gap.language,
        intent=gap.intent,
        reasons=gap.reasons,
    )


def shown_text(text: str, risk_flags: list[str], services: Services) -> str:
    """A ticket's text as a report shows it: masked as the console's ticket page masks it, and even when triage
    flagged no secret, its contact details hidden (a report is not the place to reveal them); cut short."""
    taxonomy = services.taxonomy
    masked = masked_text(text, risk_flags, taxonomy) or replace_spans(text, personal_spans(text, taxonomy), HIDDEN)
    return masked if len(masked) <= SHOWN_CHARS else masked[: SHOWN_CHARS - 1].rstrip() + "…"


def _missing_locales(services: Services, kept: KeptDrafts) -> list[MissingLocale]:
    """Tickets whose language the SOP their draft followed has no template in, per document and language."""
    library = services.library
    counts: Counter[tuple[str, str]] = Counter()
    for draft in [*latest_per_ticket(kept.traffic).values(), *kept.eval_latest.values()]:
        language = draft.triage.language
        doc = library.documents.get(sop_of(draft, library) or "")
        if doc is not None and language not in {t.locale for t in doc.templates}:
            counts[doc.id, language] += 1
    return [MissingLocale(doc_id=d, language=lang, tickets=n) for (d, lang), n in counts.most_common()]


def _counts(values: Iterable[str]) -> dict[str, int]:
    return dict(Counter(values).most_common())


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
