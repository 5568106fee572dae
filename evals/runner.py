"""The eval runner: measures the pipeline through its public functions on the project's datasets.

Suites: triage (intent accuracy and macro-F1 on the test split), flags (recall and precision of each
risk flag on the safety set), retrieval (recall@k and MRR of the
expected SOP on the golden set) and reply (expected action, citations that exist and were given,
required figures stated, forbidden claims made, on the golden set). Each returns plain numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel
from sklearn.metrics import accuracy_score, f1_score

from copilot.domain import Ticket
from copilot.pipeline import retrieve_for, suggest, triage_ticket
from copilot.services import Services
from copilot.triage import triage_many
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


def triage_suite(
    services: Services, tickets: list[LabelledTicket], progress: Progress | None = None
) -> dict[str, float]:
    labels = triage_many(
        [Ticket(id=t.id, text=t.text) for t in tickets],
        classifier=services.require_classifier(),
        taxonomy=services.taxonomy,
        thresholds=services.thresholds,
    )
    if progress:
        progress(len(tickets))
    gold, predicted = [t.intent for t in tickets], [x.intent for x in labels]
    return {
        "tickets": len(tickets),
        "intent_accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "intent_macro_f1": round(float(f1_score(gold, predicted, average="macro", zero_division=0)), 4),
        "lob_accuracy": round(sum(x.lob == t.lob for x, t in zip(labels, tickets)) / len(tickets), 4),
    }


def flags_suite(services: Services, cases: list[SafetyCase], progress: Progress | None = None) -> dict[str, float]:
    """Recall and precision of each risk flag on the safety set (a flag never seen there has no figures)."""
    labels = triage_many(
        [Ticket(text=c.text) for c in cases],
        classifier=services.require_classifier(),
        taxonomy=services.taxonomy,
        thresholds=services.thresholds,
    )
    if progress:
        progress(len(cases))
    out: dict[str, float] = {"cases": len(cases)}
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
) -> dict[str, float]:
    hits, reciprocal = 0, 0.0
    for case in cases:
        ticket = Ticket(text=case.text)
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


def reply_suite(services: Services, cases: list[GoldenCase], progress: Progress | None = None) -> dict[str, float]:
    figures = services.library.figure_values()
    right_action = cited_ok = facts_needed = facts_stated = forbidden = 0
    for case in cases:
        draft = suggest(Ticket(text=case.text), services=services)
        text = (draft.reply or "").lower()
        right_action += draft.action.value == case.expected_action
        cited_ok += all(c.doc_id in services.library.documents for c in draft.citations)
        if case.expected_action == "reply":
            facts_needed += len(case.required_facts)
            facts_stated += sum(figures[k].lower() in text for k in case.required_facts if k in figures)
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
) -> dict[str, dict[str, float]]:
    """Run the chosen suites on the datasets in settings.datasets_dir; raises ValueError for an unknown suite."""
    unknown = sorted(set(suites) - set(SUITES))
    if unknown:
        raise ValueError(f"unknown suite {unknown[0]!r}; valid: {', '.join(SUITES)}")
    datasets = services.settings.datasets_dir
    results: dict[str, dict[str, float]] = {}
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


def write_results(results: dict[str, dict[str, float]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
