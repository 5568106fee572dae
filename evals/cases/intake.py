"""Add decided drafts (an export of `copilot export-decisions`) to the golden set as new cases.

An approved or edited draft is a confirmed case: the action and SOP the specialist accepted, and the
policy figures the sent text states as required facts. A rejected draft says what was wrong, not what
is right, so it is left for QA to label. Tickets already in the set (or near-duplicates, by the
validator's rule) are skipped. The golden file is replaced whole or not at all.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from copilot.domain import DraftStatus
from copilot.drafting.plan import general_sop
from copilot.store.decided import DecidedCase
from evals.cases.figures import figure_pattern
from evals.cases.schemas import GoldenCase
from evals.cases.similarity import NEAR_DUPLICATE_JACCARD, jaccard, shingles
from evals.cases.validate import read_cases
from knowledge_base.library import SopLibrary


@dataclass
class IntakeReport:
    added: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # draft ids left for QA to label
    duplicates: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.added)} cases added, {len(self.duplicates)} already in the set, "
            f"{len(self.rejected)} rejected drafts left for QA to label"
        )


def add_decided(export: Path, golden: Path, *, library: SopLibrary) -> IntakeReport:
    """Append the confirmed decisions of `export` to `golden`; raises ValueError naming a bad line."""
    decided = read_cases(export, DecidedCase)
    cases = read_cases(golden, GoldenCase) if golden.exists() else []
    seen = [shingles(c.text) for c in cases]
    number = max((int(c.id.removeprefix("G-")) for c in cases), default=0)
    report = IntakeReport()
    new: list[GoldenCase] = []
    for item in decided:
        if item.decision is DraftStatus.REJECTED:
            report.rejected.append(item.draft_id)
            continue
        words = shingles(item.text)
        if any(jaccard(words, other) >= NEAR_DUPLICATE_JACCARD for other in seen):
            report.duplicates.append(item.draft_id)
            continue
        number += 1
        new.append(_golden_case(item, f"G-{number:04d}", library))
        seen.append(words)
        report.added.append(new[-1].id)
    if new:
        _append(golden, new)
    return report


def _golden_case(item: DecidedCase, case_id: str, library: SopLibrary) -> GoldenCase:
    sent = (item.final_text or "").casefold()
    facts = [key for key, value in library.figure_values().items() if figure_pattern(value).search(sent)]
    cited_facts = [key for key in facts if library.figures[key].doc_id in item.sop_ids]
    return GoldenCase(
        id=case_id,
        text=item.text,
        language=item.language,
        lob=item.lob,
        intent=item.intent,
        risk_flags=item.risk_flags,
        expected_action=item.action,
        # The SOP the draft cited first. A draft that cited nothing names no SOP, so the case expects the
        # general one (the SOP of the general intent, which plan_draft falls back on when no SOP covers a
        # ticket), as a QA reviewer would file it; the library says which document that is.
        expected_sop_ids=item.sop_ids or [general_sop(library).id],
        required_facts=cited_facts,
        forbidden_claims=[],
        notes=f"from draft {item.draft_id}, {item.decision.value} by {item.actor} on {item.decided_at:%Y-%m-%d}",
    )


def _append(path: Path, cases: list[GoldenCase]) -> None:
    """Existing lines kept byte for byte, the new ones after them, swapped in with one rename."""
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    if before and not before.endswith("\n"):
        before += "\n"
    lines = "".join(json.dumps(c.model_dump(), ensure_ascii=False) + "\n" for c in cases)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(before + lines, encoding="utf-8")
    os.replace(partial, path)
