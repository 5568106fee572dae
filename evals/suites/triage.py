"""Triage: intent accuracy, macro-F1, per-class scores, confusion, calibration, risk-coverage, out-of-scope,
and each risk flag's recall and precision on the labelled tickets."""

from __future__ import annotations

import math
import warnings
from collections import Counter, defaultdict

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from copilot.domain import Routing, Ticket
from copilot.pipeline import triage_batch
from copilot.services import Services
from copilot.triage.metrics import expected_calibration_error, reliability_bins
from evals.cases.schemas import LabelledTicket
from evals.results import ClassScores, Confusion, CoveragePoint, Failure, Measures, ReliabilityBin, SuiteResult
from evals.suites.safety import flag_scores

COVERAGE_THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def triage_suite(services: Services, tickets: list[LabelledTicket], *, dataset: str) -> SuiteResult:
    labels = triage_batch([Ticket(id=t.id, text=t.text) for t in tickets], services=services)
    gold, predicted = [t.intent for t in tickets], [x.intent for x in labels]
    correct = [g == p for g, p in zip(gold, predicted)]
    oos = services.taxonomy.out_of_scope.label
    in_scope = [ok for ok, g in zip(correct, gold) if g != oos]
    oos_caught = [p == oos for g, p in zip(gold, predicted) if g == oos]
    routed = Counter(x.routing.value for x in labels)
    auto = [ok for ok, x in zip(correct, labels) if x.routing is Routing.AUTO]
    result = classification_result(
        "triage",
        dataset,
        cases=[(t.id, t.text) for t in tickets],
        gold=gold,
        predicted=[(x.intent, x.confidence) for x in labels],
        groups=[t.lob for t in tickets],
    )
    measures = Measures()
    measures.ratio(
        "lob_accuracy", sum(x.lob == t.lob for x, t in zip(labels, tickets)), len(tickets), reason="no tickets"
    )
    measures.ratio("in_scope_accuracy", sum(in_scope), len(in_scope), reason="no in-scope tickets")
    measures.ratio("out_of_scope_recall", sum(oos_caught), len(oos_caught), reason="no out-of-scope tickets")
    for r in Routing:
        measures.ratio(f"routed_{r.value}_share", routed[r.value], len(labels), reason="no tickets")
    measures.put(
        "auto_applied_error_rate",
        _r(1 - sum(auto) / len(auto)) if auto else None,
        reason="no ticket was routed to be labelled automatically",
    )
    # Risk flags on ordinary tickets too, beside the safety set's: a missed flag is a missed escalation.
    flag_scores(
        measures,
        list(services.taxonomy.risk_flags),
        [t.risk_flags for t in tickets],
        [x.risk_flags for x in labels],
    )
    result.add(measures)
    wrong, flag_only = iter(result.failures), []  # the wrong intents are listed in ticket order
    for t, x, ok in zip(tickets, labels, correct):
        missed = [f"risk flag {flag} not raised" for flag in sorted(set(t.risk_flags) - set(x.risk_flags))]
        if not ok:
            failure = next(wrong)
            failure.output += f", routed {x.routing.value}"
            failure.problems += missed
        elif missed:
            output = f"{x.intent} ({x.confidence:.2f}), routed {x.routing.value}"
            flag_only.append(Failure(case_id=t.id, ticket=t.text, output=output, problems=missed))
    result.failures += flag_only
    return result


def classification_result(
    suite: str,
    dataset: str,
    *,
    cases: list[tuple[str, str]],
    gold: list[str],
    predicted: list[tuple[str, float]],
    groups: list[str] | None = None,
) -> SuiteResult:
    """Accuracy, macro-F1, ECE, per-class scores, confusion, reliability and risk-coverage of labels
    predicted for (id, text) cases; `groups` (the LOB of each case) gives accuracy per group."""
    labels, confidences = [p for p, _ in predicted], [c for _, c in predicted]
    correct = [g == p for g, p in zip(gold, labels)]
    return SuiteResult(
        suite=suite,
        dataset=dataset,
        cases=len(cases),
        metrics={
            "intent_accuracy": _r(accuracy_score(gold, labels)),
            "intent_macro_f1": _r(f1_score(gold, labels, average="macro", zero_division=0)),
            "ece": _r(expected_calibration_error(confidences, correct)),
        },
        per_class=per_class(gold, labels),
        per_lob=_accuracy_by(groups, correct) if groups else {},
        per_lob_metric="intent_accuracy" if groups else None,
        confusion=_confusion(gold, labels),
        reliability=[ReliabilityBin.model_validate(b) for b in reliability_bins(confidences, correct)],
        risk_coverage=risk_coverage(confidences, correct),
        failures=[
            Failure(case_id=i, ticket=text, output=f"{label} ({conf:.2f})", problems=[f"expected intent {g}"])
            for (i, text), g, (label, conf), ok in zip(cases, gold, predicted, correct)
            if not ok
        ],
    )


def per_class(gold: list[str], predicted: list[str]) -> list[ClassScores]:
    """Scores of each label; precision is None for a label never predicted, recall for one no case has."""
    names = sorted(set(gold) | set(predicted))
    p, r, f, n = precision_recall_fscore_support(gold, predicted, labels=names, zero_division=np.nan)
    return [
        ClassScores(label=name, precision=_r_or_none(a), recall=_r_or_none(b), f1=_r(c), support=int(d))
        for name, a, b, c, d in zip(names, p, r, f, n)
    ]


def risk_coverage(confidences: list[float], correct: list[bool]) -> list[CoveragePoint]:
    """Error rate of the labels applied automatically at each confidence threshold, with the share applied.
    A threshold no label reaches has no error rate, so it has no point."""
    points = []
    for threshold in COVERAGE_THRESHOLDS:
        kept = [ok for c, ok in zip(confidences, correct) if c >= threshold]
        if kept:
            risk = 1 - sum(kept) / len(kept)
            points.append(CoveragePoint(threshold=threshold, coverage=_r(len(kept) / len(correct)), risk=_r(risk)))
    return points


def _confusion(gold: list[str], predicted: list[str]) -> Confusion:
    names = sorted(set(gold) | set(predicted))
    with warnings.catch_warnings():  # sklearn warns about a single label even when the labels are passed
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        matrix = confusion_matrix(gold, predicted, labels=names)
    return Confusion(labels=names, matrix=matrix.tolist())


def _accuracy_by(groups: list[str], correct: list[bool]) -> dict[str, float]:
    by: dict[str, list[bool]] = defaultdict(list)
    for group, ok in zip(groups, correct):
        by[group].append(ok)
    return {group: _r(sum(oks) / len(oks)) for group, oks in sorted(by.items())}


def _r(value: float) -> float:
    return round(float(value), 4)


def _r_or_none(value: float) -> float | None:
    """Rounded, or None for the NaN scikit-learn gives a score with nothing to measure."""
    return None if math.isnan(value) else _r(value)
