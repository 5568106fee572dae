"""Replies: expected action, citations, figures grounded, required facts, forbidden claims, language, length."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from copilot.domain import Draft, Ticket
from copilot.domain.drafts import ProblemKind
from copilot.drafting.verify import numbers_in
from copilot.pipeline import StageTimes, suggest
from copilot.services import Services
from evals.cases.figures import figure_pattern
from evals.cases.schemas import GoldenCase
from evals.results import Failure, Measures, SuiteResult

if TYPE_CHECKING:  # the judge needs the chat model's client, which a run without a judge never imports
    from evals.suites.judge import Judge

JUDGED = ("faithfulness", "answer_relevance")
NO_JUDGE = "no judge model is configured (COPILOT_JUDGE_MODEL)"
Progress = Callable[[int], None]


def draft_all(
    services: Services, tickets: list[Ticket], progress: Progress | None = None
) -> list[tuple[Draft, StageTimes]]:
    """A draft for each ticket through the real suggest path, with the seconds each stage took."""
    out = []
    for ticket in tickets:
        times = StageTimes()
        out.append((suggest(ticket, services=services, times=times), times))
        if progress:
            progress(1)
    return out


def reply_suite(
    services: Services, cases: list[GoldenCase], drafts: list[Draft], *, dataset: str, judge: Judge | None = None
) -> SuiteResult:
    figures = services.library.figure_values()
    failures: list[Failure] = []
    right_by_lob: dict[str, list[bool]] = defaultdict(list)
    totals: defaultdict[str, int] = defaultdict(int)
    for case, draft in zip(cases, drafts):
        text = (draft.reply or "").casefold()
        problems = []
        if draft.action.value != case.expected_action:
            problems.append(f"action {draft.action.value}, expected {case.expected_action}")
        right_by_lob[case.lob].append(draft.action.value == case.expected_action)
        cites_known = all(c.doc_id in services.library.documents for c in draft.citations)
        if not cites_known:
            problems.append("cites a document the library does not hold")
        problems += [p.detail for p in draft.problems]
        numbers = numbers_in(draft.reply or "")
        ungrounded = [p for p in draft.problems if p.kind is ProblemKind.UNGROUNDED_FIGURE]
        totals["numbers"] += len(numbers)
        totals["ungrounded"] += len(ungrounded)
        if case.expected_action == "reply" and draft.action.value == "reply":
            needed = [k for k in case.required_facts if k in figures]
            missing = [k for k in needed if not figure_pattern(figures[k]).search(text)]
            totals["facts_needed"] += len(needed)
            totals["facts_stated"] += len(needed) - len(missing)
            problems += [f"does not state {k} ({figures[k]})" for k in missing]
        said = [claim for claim in case.forbidden_claims if claim.casefold() in text]
        problems += [f'makes the forbidden claim "{claim}"' for claim in said]
        totals["forbidden"] += bool(said)
        totals["with_forbidden_claims"] += bool(case.forbidden_claims)
        totals["cited_ok"] += cites_known
        totals["language_match"] += draft.language == case.language
        if problems:
            failures.append(Failure(case_id=case.id, ticket=case.text, output=_shown(draft), problems=problems))
    n = len(cases)
    lengths = [len(re.findall(r"\w+", d.reply or "")) for d in drafts]
    m = Measures()
    m.ratio("action_accuracy", sum(sum(v) for v in right_by_lob.values()), n, reason="no cases")
    m.ratio("citations_valid", totals["cited_ok"], n, reason="no cases")
    m.ratio("drafts_verified", sum(d.verified for d in drafts), n, reason="no cases")
    m.put(
        "figures_grounded",
        round(1 - totals["ungrounded"] / totals["numbers"], 4) if totals["numbers"] else None,
        reason="no figures in any draft",
    )
    m.ratio(
        "required_facts_stated",
        totals["facts_stated"],
        totals["facts_needed"],
        reason="no case answered with a reply needs a policy figure",
    )
    m.put(
        "drafts_with_forbidden_claims",
        totals["forbidden"] if totals["with_forbidden_claims"] else None,
        reason="no case lists a forbidden claim",
    )
    m.ratio("language_match", totals["language_match"], n, reason="no cases")
    m.put("mean_length_words", round(statistics.fmean(lengths), 1) if lengths else None, reason="no drafts")
    if judge is None:
        for name in JUDGED:
            m.skip(name, NO_JUDGE)
    else:
        judged(m, services, drafts, judge)
    return SuiteResult(
        suite="reply",
        dataset=dataset,
        cases=n,
        metrics=m.metrics,
        unmeasured=m.unmeasured,
        per_lob={lob: round(sum(v) / len(v), 4) for lob, v in sorted(right_by_lob.items())},
        per_lob_metric="action_accuracy",
        failures=failures,
    )


def judged(measures: Measures, services: Services, drafts: list[Draft], judge: Judge) -> None:
    """Mean faithfulness and relevance of the drafts that have text, graded against their cited passages."""
    grades = []
    for draft in drafts:
        if not draft.reply:
            continue
        cited = {c.chunk_id for c in draft.citations}
        sources = [
            p.text
            for doc_id in dict.fromkeys(c.doc_id for c in draft.citations)
            for p in services.snapshot().passages_of(doc_id)
            if p.chunk_id in cited
        ]
        grades.append(judge.grade(ticket=draft.ticket_text, reply=draft.reply, sources=sources))
    measures.put(
        "faithfulness",
        round(statistics.fmean(g.faithfulness for g in grades), 4) if grades else None,
        reason="no draft has text to judge",
    )
    measures.put(
        "answer_relevance",
        round(statistics.fmean(g.answer_relevance for g in grades), 4) if grades else None,
        reason="no draft has text to judge",
    )


def _shown(draft: Draft) -> str:
    head = f"[{draft.action.value}] {draft.template or 'no template'}, cites " + ", ".join(
        dict.fromkeys(c.doc_id for c in draft.citations)
    )
    return f"{head}\n\n{draft.reply or '(no text)'}"
