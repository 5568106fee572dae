"""The eval runner: measures the pipeline through its public functions on the project's datasets.

Suites: triage (intent accuracy and macro-F1 on the test split), flags (recall and precision of each
risk flag on the safety set), retrieval (recall@k and MRR of the
expected SOP on the golden set) and reply (expected action, citations that exist and were given,
required figures stated, forbidden claims made, on the golden set). Each returns plain numbers.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel
from sklearn.metrics import accuracy_score, f1_score

from copilot.domain import Routing, Ticket
from copilot.pipeline import retrieve_for, suggest, triage_batch, triage_ticket
from copilot.services import Services
from copilot.triage.metrics import expected_calibration_error
from evals.figures import figure_pattern
from evals.schemas import GoldenCase, LabelledTicket, SafetyCase
from evals.validate import read_jsonl

Progress = Callable[[int], None]
Model = TypeVar("Model", bound=BaseModel)
SUITES = ("triage", "flags", "retrieval", "reply")


def _read(path: Path, model: type[Model]) -> list[Model]:
    problems: list[str] = []
    rows = read_jsonl(path, model, problems)
    if problems:
        raise ValueError(f"{path}: {problems[0]}")
    return rows


Metrics = dict[str, float | None]  # None: not measurable on this data (say, no out-of-scope tickets)


def triage_suite(services: Services, tickets: list[LabelledTicket], progress: Progress | None = None) -> Metrics:
    labels = triage_batch([Ticket(id=t.id, text=t.text) for t in tickets], services=services)
    if progress:
        progress(len(tickets))
    gold, predicted = [t.intent for t in tickets], [x.intent for x in labels]
    correct = [g == p for g, p in zip(gold, predicted)]
    oos = services.taxonomy.out_of_scope.label
    in_scope = [ok for ok, g in zip(correct, gold) if g != oos]
    oos_caught = [p == oos for g, p in zip(gold, predicted) if g == oos]
    routed = Counter(x.routing.value for x in labels)
    auto = [ok for ok, x in zip(correct, labels) if x.routing is Routing.AUTO]
    return {
        "tickets": len(tickets),
        "intent_accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "intent_macro_f1": round(float(f1_score(gold, predicted, average="macro", zero_division=0)), 4),
        "lob_accuracy": round(sum(x.lob == t.lob for x, t in zip(labels, tickets)) / len(tickets), 4),
        "ece": round(expected_calibration_error([x.confidence for x in labels], correct), 4),
        "in_scope_accuracy": round(sum(in_scope) / len(in_scope), 4) if in_scope else None,
        "out_of_scope_recall": round(sum(oos_caught) / len(oos_caught), 4) if oos_caught else None,
        **{f"routed_{r.value}_share": round(routed[r.value] / len(labels), 4) for r in Routing},
        "auto_applied_error_rate": round(1 - sum(auto) / len(auto), 4) if auto else 0.0,
        **risk_coverage([x.confidence for x in labels], correct),
    }


def risk_coverage(confidences: list[float], correct: list[bool]) -> dict[str, float]:
    """Error rate of the labels applied automatically at each confidence threshold, with the share applied."""
    out: dict[str, float] = {}
    for threshold in (0.3, 0.5, 0.7, 0.8, 0.9, 0.95):
        kept = [ok for c, ok in zip(confidences, correct) if c >= threshold]
        out[f"coverage_at_{threshold}"] = round(len(kept) / len(correct), 4)
        out[f"risk_at_{threshold}"] = round(1 - sum(kept) / len(kept), 4) if kept else 0.0
    return out


def flags_suite(services: Services, cases: list[SafetyCase], progress: Progress | None = None) -> Metrics:
    """Recall and precision of each risk flag on the safety set (a flag never seen there has no figures)."""
    labels = triage_batch([Ticket(text=c.text) for c in cases], services=services)
    if progress:
        progress(len(cases))
    out: Metrics = {"cases": len(cases)}
    for flag in services.taxonomy.risk_flags:
        gold = [flag in c.risk_flags for c in cases]
        raised = [flag in x.risk_flags for x in labels]
        caught = sum(g and r for g, r in zip(gold, raised))
        if any(gold):
            out[f"{flag}_recall"] = round(caught / sum(gold), 4)
        if any(raised):
            out[f"{flag}_precision"] = round(caught / sum(raised), 4)
    return out


def retrieval_suite(
    services: Services, cases: list[GoldenCase], *, k: int, progress: Progress | None = None
) -> Metrics:
    hits, reciprocal = 0, 0.0
    for case in cases:
        ticket = Ticket(id=case.id, text=case.text)
        passages = retrieve_for(ticket, triage_ticket(ticket, services=services), services=services, k=k)
        ranked = list(dict.fromkeys(p.doc_id for p in passages))
        expected = case.expected_sop_ids[0]
        if expected in ranked:
            hits += 1
            reciprocal += 1 / (ranked.index(expected) + 1)
        if progress:
            progress(1)
    return {
        "cases": len(cases),
        f"recall_at_{k}": round(hits / len(cases), 4),
        "mrr": round(reciprocal / len(cases), 4),
    }


def reply_suite(services: Services, cases: list[GoldenCase], progress: Progress | None = None) -> Metrics:
    figures = services.library.figure_values()
    right_action = cited_ok = facts_needed = facts_stated = forbidden = 0
    for case in cases:
        draft = suggest(Ticket(id=case.id, text=case.text), services=services)
        text = (draft.reply or "").lower()
        right_action += draft.action.value == case.expected_action
        cited_ok += all(c.doc_id in services.library.documents for c in draft.citations)
        if case.expected_action == "reply":
            facts_needed += len(case.required_facts)
            facts_stated += sum(
                bool(figure_pattern(figures[k]).search(text)) for k in case.required_facts if k in figures
            )
        forbidden += any(claim.lower() in text for claim in case.forbidden_claims)
        if progress:
            progress(1)
    return {
        "cases": len(cases),
        "action_accuracy": round(right_action / len(cases), 4),
        "citations_valid": round(cited_ok / len(cases), 4),
        "required_facts_stated": round(facts_stated / facts_needed, 4) if facts_needed else 1.0,
        "drafts_with_forbidden_claims": forbidden,
    }


def run(
    services: Services, *, suites: tuple[str, ...] = SUITES, k: int = 5, progress: Progress | None = None
) -> dict[str, Metrics]:
    """Run the chosen suites on the datasets in settings.datasets_dir; raises ValueError for an unknown suite."""
    unknown = sorted(set(suites) - set(SUITES))
    if unknown:
        raise ValueError(f"unknown suite {unknown[0]!r}; valid: {', '.join(SUITES)}")
    datasets = services.settings.datasets_dir
    results: dict[str, Metrics] = {}
    if "triage" in suites:
        results["triage"] = triage_suite(services, _read(datasets / "tickets" / "test.jsonl", LabelledTicket), progress)
    if "flags" in suites:
        results["flags"] = flags_suite(services, _read(datasets / "safety.jsonl", SafetyCase), progress)
    golden = _read(datasets / "golden_replies.jsonl", GoldenCase) if {"retrieval", "reply"} & set(suites) else []
    if "retrieval" in suites:
        results["retrieval"] = retrieval_suite(services, golden, k=k, progress=progress)
    if "reply" in suites:
        results["reply"] = reply_suite(services, golden, progress=progress)
    return results


def work_units(services: Services, suites: tuple[str, ...]) -> int:
    """How many progress steps `run` reports for these suites."""
    datasets = services.settings.datasets_dir
    golden = _lines(datasets / "golden_replies.jsonl")
    tickets = _lines(datasets / "tickets" / "test.jsonl")
    safety = _lines(datasets / "safety.jsonl")
    return (
        ("triage" in suites) * tickets
        + ("flags" in suites) * safety
        + ("retrieval" in suites) * golden
        + ("reply" in suites) * golden
    )


def _lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def write_results(results: dict[str, Metrics], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
