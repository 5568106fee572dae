"""The copilot loop: triage a ticket, retrieve SOP passages, plan the action, write, verify and store a draft."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from copilot.domain import Draft, Passage, Routing, SopDocument, Ticket, Triage
from copilot.domain.accounts import Actor
from copilot.domain.drafts import utcnow
from copilot.domain.personal_data import secrets_warning
from copilot.domain.placeholders import figures_used
from copilot.domain.records import AuditAction, AuditEntry, LabelChange, LabelCorrection, TicketRecord, sla_due
from copilot.domain.taxonomy import UnknownLabel
from copilot.domain.tickets import admit
from copilot.drafting.composer import warm_template_choice
from copilot.drafting.grounding import Grounding
from copilot.drafting.plan import plan_draft
from copilot.drafting.verify import verify
from copilot.retrieval import retrieve
from copilot.services import Services
from copilot.triage import triage_many
from copilot.triage.rules import level_of
from knowledge_base.index import IngestReport
from knowledge_base.library import load_library
from knowledge_base.loader import SopError
from knowledge_base.snapshot import LibrarySnapshot

logger = logging.getLogger(__name__)


def triage_ticket(ticket: Ticket, *, services: Services) -> Triage:
    return triage_batch([ticket], services=services)[0]


def triage_batch(tickets: list[Ticket], *, services: Services) -> list[Triage]:
    """Label many tickets in one pass; the same labels each would get alone. Raises TicketTooLong."""
    for ticket in tickets:
        admit(ticket, max_chars=services.settings.max_ticket_chars)
    return triage_many(
        tickets, classifier=services.require_classifier(), taxonomy=services.taxonomy, thresholds=services.thresholds
    )


class StageTimes(dict[str, float]):
    """Seconds spent in each stage of one suggestion: triage, retrieval, writing, verification, storing."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self[name] = self.get(name, 0.0) + time.perf_counter() - started


def intake(ticket: Ticket, *, services: Services, by: Actor, helpdesk_id: str | None = None) -> TicketRecord:
    """Keep a received ticket as a record with its labels and SLA clock. A ticket sent again with a helpdesk id
    already kept is not triaged or stored again: the kept record is returned."""
    kept = services.tickets.find(ticket.id, helpdesk_id=helpdesk_id)
    if kept is not None:
        return kept
    labels = triage_ticket(ticket, services=services)
    received_at, taxonomy = utcnow(), services.taxonomy
    record, _ = services.tickets.store(
        ticket,
        labels,
        helpdesk_id=helpdesk_id,
        received_at=received_at,
        taxonomy_version=taxonomy.version,
        sla_due_at=sla_due(received_at, labels.priority, taxonomy),
        priority_rank=taxonomy.priority_rank(labels.priority),
        by=by,
    )
    return record


def correct_labels(ticket_id: str, change: LabelChange, *, services: Services, by: Actor) -> LabelCorrection:
    """Put a specialist's labels in force. A changed intent or set of flags gives its LOB, tier, escalation and
    queue by the taxonomy's rules (and its priority, unless the change names one); the ticket's SLA clock
    follows the priority. Raises UnknownLabel for a label the taxonomy does not hold, TicketNotFound."""
    taxonomy = services.taxonomy
    change.check(taxonomy)
    record = services.tickets.get(ticket_id)
    old = record.labels
    intent = change.intent or old.intent
    flags = old.risk_flags if change.risk_flags is None else change.risk_flags
    labels = old.model_copy(update={"routing": Routing.AUTO, "language": change.language or old.language})
    if intent != old.intent or set(flags) != set(old.risk_flags):
        level = level_of(intent, flags, old.conditions, taxonomy)
        labels = labels.model_copy(
            update={
                "intent": intent,
                "lob": taxonomy.lob_of_intent[intent],
                "risk_flags": level.risk_flags,
                "priority": level.priority,
                "tier": level.tier,
                "escalate": level.escalate,
                "queue": level.queue,
            }
        )
    if change.priority is not None:
        labels = labels.model_copy(update={"priority": change.priority})
    return services.tickets.correct(
        ticket_id,
        labels,
        sla_due_at=sla_due(record.received_at, labels.priority, taxonomy),
        priority_rank=taxonomy.priority_rank(labels.priority),
        by=by,
    )


def reveal_text(ticket_id: str, *, services: Services, by: Actor) -> TicketRecord:
    """The kept ticket, for a person to read unmasked: the reveal is written to the audit log first. Raises
    TicketNotFound."""
    record = services.tickets.get(ticket_id)
    services.audit.record(AuditEntry.of(by, AuditAction.TICKET_TEXT_REVEALED, ticket_id, utcnow()))
    return record


def suggest(ticket: Ticket, *, services: Services, times: StageTimes | None = None, by: Actor | None = None) -> Draft:
    """Triage, retrieve, plan, write and verify a draft for one ticket, and store it as pending."""
    times = StageTimes() if times is None else times
    with times.stage("triage"):
        labels = triage_ticket(ticket, services=services)
    return draft_reply(ticket, labels, services=services, times=times, by=by)


def suggest_for(record: TicketRecord, *, services: Services, by: Actor, times: StageTimes | None = None) -> Draft:
    """A new draft for a kept ticket, from the labels in force (a specialist's correction, if any)."""
    return draft_reply(record.ticket, record.labels, services=services, times=times or StageTimes(), by=by)


def draft_reply(ticket: Ticket, labels: Triage, *, services: Services, times: StageTimes, by: Actor | None) -> Draft:
    """Retrieve, plan, write and verify a draft for a labelled ticket, and store it as pending."""
    draft = compose_draft(ticket, labels, services=services, snapshot=services.snapshot(), times=times)
    with times.stage("storing"):
        return services.store.save(draft, by=by)


def compose_draft(
    ticket: Ticket, labels: Triage, *, services: Services, snapshot: LibrarySnapshot, times: StageTimes | None = None
) -> Draft:
    """Retrieve, plan, write and verify a draft from one library snapshot, without storing it. Every stage reads
    that snapshot, so the draft's text, citations and recorded versions are of one library version (the current
    one, or a candidate the impact preview replays)."""
    times = StageTimes() if times is None else times
    with times.stage("retrieval"):
        passages = retrieve_for(ticket, labels, services=services, k=services.settings.top_k, snapshot=snapshot)
    with times.stage("writing"):
        plan = plan_draft(
            labels,
            passages,
            library=snapshot.library,
            min_retrieval_score=services.settings.min_retrieval_score,
            out_of_scope=services.taxonomy.out_of_scope.label,
        )
        grounding = Grounding(
            sop=plan.sop, sources=sources_for(plan.sop.id, passages, snapshot), library=snapshot.library
        )
        draft = services.writer.write(ticket, labels, plan, grounding)
        warning = secrets_warning(labels.risk_flags, services.taxonomy)
        if warning:
            draft = draft.model_copy(update={"warnings": [*draft.warnings, warning]})
    with times.stage("verification"):
        problems = verify(draft, ticket=ticket, grounding=grounding, taxonomy=services.taxonomy)
        return draft.model_copy(update={"problems": problems})


def retrieve_for(
    ticket: Ticket,
    labels: Triage,
    *,
    services: Services,
    k: int,
    snapshot: LibrarySnapshot | None = None,
    query_vector: list[float] | None = None,
) -> list[Passage]:
    """Passages for a triaged ticket, in its language or the taxonomy's fallback language: the escalation SOP
    of each raised risk flag first, then ranked by meaning, words and the intents triage ranks first (unless
    out of scope).
    A LOB that triage is sure enough of to apply on its own (routing AUTO) filters: only its documents
    and cross-LOB ones; a less certain one only ranks, so that a triage error is not a retrieval miss."""
    snapshot = snapshot or services.snapshot()
    in_scope = labels.intent in services.taxonomy.intents
    handlers = [snapshot.library.escalation_sop_for(flag) for flag in labels.risk_flags]
    return retrieve(
        ticket.text,
        index=snapshot,
        k=k,
        lob=labels.lob if in_scope and labels.routing is Routing.AUTO else None,
        language=labels.language,
        fallback_language=services.taxonomy.fallback_language,
        intents=[labels.intent, *(intent for intent, _ in labels.alternatives)] if in_scope else [],
        pinned=list(dict.fromkeys(h.id for h in handlers if h is not None)),
        query_vector=query_vector,
    )


def sources_for(sop_id: str, passages: list[Passage], snapshot: LibrarySnapshot) -> list[Passage]:
    """The retrieved passages plus the whole chosen SOP and the Figures of the policies its templates use."""
    library = snapshot.library
    sop = library.documents[sop_id]
    policies = {library.figures[k].doc_id for t in sop.templates for k in figures_used(t.body)}
    fetched = [p for doc_id in [sop_id, *sorted(policies)] for p in snapshot.passages_of(doc_id)]
    by_id = {p.chunk_id: p for p in [*fetched, *passages]}
    return list(by_id.values())


def warm_up(services: Services) -> int:
    """Embed what every suggestion compares tickets with (the templates' readings) before the first ticket."""
    templates = [t for doc in services.library.active() for t in doc.templates]
    return warm_template_choice(templates, services.embeddings)


def search_knowledge_base(query: str, *, services: Services, k: int, lob: str | None = None) -> list[Passage]:
    """The k best passages for a query, from one LOB's documents and cross-LOB ones when `lob` is given;
    raises UnknownLabel for a LOB the taxonomy does not hold."""
    if lob is not None and lob not in services.taxonomy.lobs:
        raise UnknownLabel(f"unknown LOB {lob!r}; valid: {', '.join(services.taxonomy.lobs)}")
    return retrieve(query, index=services.snapshot(), k=k, lob=lob)


def ingest(
    services: Services, *, by: Actor | None = None, progress: Callable[[str, int], None] | None = None
) -> IngestReport:
    """Reload the SOP folder and make the index match it, keeping each newly published version's text; then this
    process serves the new version (other processes pick it up before their next draft). A bad file, or a
    document changed without a new version number, stops the ingest before any write."""
    by = by or Actor.system("ingest")
    library = load_library(services.settings.sop_dir, services.taxonomy)
    active = library.active()
    texts = {doc.id: Path(doc.source_path).read_bytes().decode("utf-8") for doc in active}
    _refuse_unbumped(active, services.sop_versions.contents_by_version())
    report = services.index.sync(active, max_tokens=services.settings.chunk_tokens, progress=progress)
    report.warnings = list(library.conflicts)  # errors stopped load_library above
    published = services.sop_versions.record([(doc, texts[doc.id]) for doc in active], by=by)
    services.snapshots.catch_up()  # a new snapshot only if the index changed and this process serves one
    services.audit.record(
        AuditEntry.of(
            by,
            AuditAction.KB_INGESTED,
            None,
            utcnow(),
            **{name: getattr(report, name) for name in ("added", "updated", "removed")},
            chunks_written=report.chunks_written,
            versions_kept=published,
        )
    )
    logger.info("SOP ingest: %s", report.summary())  # counts only
    return report


def _refuse_unbumped(documents: list[SopDocument], published: dict[tuple[str, str], set[str]]) -> None:
    """A citation names a document and a version: a version number published before must keep its content."""
    for doc in documents:
        kept = published.get((doc.id, doc.version), set())
        if kept and doc.content_hash not in kept:
            raise SopError(
                f"{Path(doc.source_path).name}: version: {doc.version} was published with other content; "
                "raise the version for this edit"
            )
