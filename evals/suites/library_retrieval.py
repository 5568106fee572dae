"""Library retrieval: top-1 and top-3 of the expected SOP over a query set written for an organisation's own library.

The library is the one the services hold (COPILOT_SOP_DIR), retrieved from as the pipeline retrieves for a ticket.
An organisation that brings its own SOPs has no labelled tickets, so usually no triage model for its taxonomy: then
queries are ranked by meaning and words alone; when a triage model for the taxonomy is loaded, its intents rank too.
"""

from __future__ import annotations

from collections import defaultdict

from copilot.domain import Ticket
from copilot.pipeline import retrieve_for, search_knowledge_base, triage_ticket
from copilot.services import Services
from evals.cases.schemas import LibraryQuery
from evals.results import Failure, Measures, SuiteResult

SUITE = "library_retrieval"
RECALL_AT = (1, 3)


def library_retrieval_suite(
    services: Services, queries: list[LibraryQuery], *, dataset: str, k: int = 5
) -> SuiteResult:
    """Each query's documents ranked (best passage per document); the first expected SOP is the one counted. Every
    query whose SOP is not first is a failure, with its rank. Raises ValueError, before any work, for a query that
    names an SOP the library does not hold or an intent the taxonomy does not."""
    _check_against_library(services, queries)
    triaged = services.classifier is not None
    depth = max(k, *RECALL_AT)
    ranks: list[int | None] = []
    first_by_lob: dict[str, list[bool]] = defaultdict(list)
    failures: list[Failure] = []
    for query in queries:
        ticket = Ticket(id=query.id, text=query.text)
        if triaged:
            passages = retrieve_for(ticket, triage_ticket(ticket, services=services), services=services, k=depth)
        else:
            passages = search_knowledge_base(query.text, services=services, k=depth)
        ranked = list(dict.fromkeys(p.doc_id for p in passages))
        expected = query.expected_sop[0]
        rank = ranked.index(expected) + 1 if expected in ranked else None
        ranks.append(rank)
        first_by_lob[services.taxonomy.lob_of_intent[query.intent]].append(rank == 1)
        if rank != 1:
            where = f"rank {rank}" if rank else f"not in the top {depth}"
            failures.append(
                Failure(
                    case_id=query.id,
                    ticket=query.text,
                    output=", ".join(ranked[:3]),
                    problems=[f"{expected} ({query.intent}) not first: {where}"],
                )
            )
    m = Measures()
    for n in sorted({*RECALL_AT, k}):
        m.ratio(f"recall_at_{n}", sum(r is not None and r <= n for r in ranks), len(queries), reason="no queries")
    m.ratio("mrr", sum(1 / r for r in ranks if r and r <= k), len(queries), reason="no queries")
    how = "retrieval with the triage model's intents" if triaged else "retrieval by meaning and words, no triage model"
    return SuiteResult(
        suite=SUITE,
        dataset=f"{dataset} over {services.settings.sop_dir} ({how})",
        cases=len(queries),
        metrics=m.metrics,
        unmeasured=m.unmeasured,
        per_lob={lob: round(sum(h) / len(h), 4) for lob, h in sorted(first_by_lob.items())},
        per_lob_metric="recall_at_1",
        failures=failures,
    )


def _check_against_library(services: Services, queries: list[LibraryQuery]) -> None:
    documents, intents = services.library.documents, set(services.taxonomy.intents)
    for query in queries:
        missing = [doc_id for doc_id in query.expected_sop if doc_id not in documents]
        if missing:
            raise ValueError(
                f"query {query.id}: expected SOP {missing[0]} is not in the ingested library "
                "(is COPILOT_SOP_DIR the library these queries were written for?)"
            )
        if query.intent not in intents:
            raise ValueError(f"query {query.id}: intent {query.intent!r} is not in the taxonomy")
