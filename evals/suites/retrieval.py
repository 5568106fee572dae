"""Retrieval: recall@k, MRR and nDCG@5 of the expected SOP ids on the golden set."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping

from copilot.domain import Ticket, Triage
from copilot.pipeline import retrieve_for, triage_ticket
from copilot.services import Services
from evals.cases.schemas import GoldenCase
from evals.results import Failure, Measures, SuiteResult

RECALL_AT = (1, 3, 5)
NDCG_AT = 5


def retrieval_suite(
    services: Services,
    cases: list[GoldenCase],
    *,
    dataset: str,
    k: int = 5,
    labels: Mapping[str, Triage] | None = None,
) -> SuiteResult:
    """Documents ranked for each ticket (best passage per document). The first expected id is the SOP;
    recall and MRR count it, nDCG counts every expected id (the SOP and its policies). `labels` gives each case's
    triage by case id when the caller has it already (else each ticket is triaged here)."""
    depth = max(k, *RECALL_AT, NDCG_AT)
    ranks: list[int | None] = []
    gains: list[float] = []  # of the cases that list an expected document
    failures: list[Failure] = []
    hit_by_lob: dict[str, list[bool]] = defaultdict(list)
    for case in cases:
        ticket = Ticket(id=case.id, text=case.text)
        triage = labels[case.id] if labels else triage_ticket(ticket, services=services)
        passages = retrieve_for(ticket, triage, services=services, k=depth)
        ranked = list(dict.fromkeys(p.doc_id for p in passages))
        expected = case.expected_sop_ids[0]
        rank = ranked.index(expected) + 1 if expected in ranked else None
        ranks.append(rank)
        gain = ndcg(ranked, case.expected_sop_ids, at=NDCG_AT)
        if gain is not None:
            gains.append(gain)
        hit_by_lob[case.lob].append(rank is not None and rank <= k)
        if rank is None or rank > k:
            failures.append(
                Failure(
                    case_id=case.id,
                    ticket=case.text,
                    output=", ".join(ranked[:k]),
                    problems=[f"{expected} not in the top {k}" + (f" (rank {rank})" if rank else "")],
                )
            )
    m = Measures()
    for n in sorted({*RECALL_AT, k}):
        m.ratio(f"recall_at_{n}", sum(r is not None and r <= n for r in ranks), len(cases), reason="no cases")
    m.ratio("mrr", sum(1 / r for r in ranks if r and r <= k), len(cases), reason="no cases")
    m.ratio(f"ndcg_at_{NDCG_AT}", sum(gains), len(gains), reason="no case lists an expected document")
    return SuiteResult(
        suite="retrieval",
        dataset=dataset,
        cases=len(cases),
        metrics=m.metrics,
        unmeasured=m.unmeasured,
        per_lob={lob: round(sum(h) / len(h), 4) for lob, h in sorted(hit_by_lob.items())},
        per_lob_metric=f"recall_at_{k}",
        failures=failures,
    )


def ndcg(ranked: list[str], relevant: list[str], *, at: int) -> float | None:
    """Binary-relevance nDCG: each expected id found counts 1 / log2(rank + 1), over the best possible;
    None when nothing is relevant (or `at` is 0), for there is no best to measure against."""
    dcg = sum(1 / math.log2(i + 2) for i, doc_id in enumerate(ranked[:at]) if doc_id in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), at)))
    return dcg / ideal if ideal else None
