"""Check every dataset against its schema, the taxonomy and the SOP library, and count what is there.

Rules (evals/datasets/README.md, training/README.md): labels exist in the taxonomy and LOB matches
intent; a ticket's priority and tier are at least what its intent and labelled flags give; tickets are
3 to 250 words; no two tickets anywhere, training tickets included, are near-duplicates
(evals/cases/similarity.py), so nothing in an eval set leaks from training; each intent has at least 8
test tickets; every SOP id and figure key referenced exists; no policy figure is written out anywhere
but its policy's Figures table.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from copilot.domain.placeholders import PLACEHOLDER
from copilot.domain.sop_format import Section
from copilot.domain.taxonomy import Taxonomy
from copilot.triage.training import training_files
from evals.cases.figures import figure_pattern
from evals.cases.schemas import GoldenCase, LabelledTicket, SafetyCase
from evals.cases.similarity import near_duplicate_pairs
from knowledge_base.library import SopLibrary

EVAL_SPLITS = ("dev", "test")  # under datasets_dir/tickets; the train split lives with the training data
MIN_TEST_PER_INTENT = 8
MIN_WORDS, MAX_WORDS = 3, 250
UNSPACED_LANGUAGES = {"ja", "th", "zh"}  # no spaces between words: count two characters as a word
_DOC_ID = re.compile(r"\b(?:SOP|POL)-[A-Z0-9]+(?:-[A-Z0-9]+)*\b")

Model = TypeVar("Model", bound=BaseModel)


@dataclass
class DatasetReport:
    problems: list[str] = field(default_factory=list)
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def read_cases(path: Path, model: type[Model]) -> list[Model]:
    """Every line of a dataset file; raises ValueError naming the file and the first bad line."""
    if not path.is_file():
        raise ValueError(f"{path}: no such dataset file")
    problems: list[str] = []
    rows = read_jsonl(path, model, problems)
    if problems:
        raise ValueError(f"{path}: {problems[0]}")
    if not rows:
        raise ValueError(f"{path}: no cases")
    return rows


def read_jsonl(path: Path, model: type[Model], problems: list[str]) -> list[Model]:
    rows = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(model.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            problems.append(f"{path.name}:{line_no}: {str(exc).splitlines()[0]}")
    return rows


def word_count(text: str, language: str) -> int:
    if language in UNSPACED_LANGUAGES:
        return len(re.sub(r"\s", "", text)) // 2
    return len(text.split())


def validate_datasets(
    datasets_dir: Path, *, training_dir: Path, taxonomy: Taxonomy, library: SopLibrary
) -> DatasetReport:
    """Check the eval sets in `datasets_dir` and the training tickets in `training_dir`, together, so
    that the near-duplicate rule also rules out leakage from training into the eval splits."""
    report = DatasetReport()
    problems = report.problems
    train, *extra = training_files(training_dir)
    # split -> (file as named in problems, path); "train" first, then the eval splits, then the extra training
    files = {"train": (f"{training_dir.name}/{train.name}", train)}
    files |= {s: (f"tickets/{s}.jsonl", datasets_dir / "tickets" / f"{s}.jsonl") for s in EVAL_SPLITS}
    files |= {f"{p.parent.name}/{p.stem}": (f"{training_dir.name}/{p.parent.name}/{p.name}", p) for p in extra}
    tickets = [(s, t) for s, (_, path) in files.items() for t in read_jsonl(path, LabelledTicket, problems)]
    golden = read_jsonl(datasets_dir / "golden_replies.jsonl", GoldenCase, problems)
    safety = read_jsonl(datasets_dir / "safety.jsonl", SafetyCase, problems)

    for split, t in tickets:
        where = f"{files[split][0]} {t.id}"
        problems += _label_problems(where, t.lob, t.intent, t.risk_flags, t.language, taxonomy)
        problems += _level_problems(where, t, taxonomy)
        words = word_count(t.text, t.language)
        if not MIN_WORDS <= words <= MAX_WORDS:
            problems.append(f"{where}: {words} words; tickets have {MIN_WORDS} to {MAX_WORDS}")
    problems += _duplicate_problems(
        [(f"{s}:{t.id}", t.text) for s, t in tickets]
        + [(f"golden:{c.id}", c.text) for c in golden]
        + [(f"safety:{c.id}", c.text) for c in safety]
    )
    test_per_intent = Counter(t.intent for s, t in tickets if s == "test")
    for intent in taxonomy.labels:
        if test_per_intent[intent] < MIN_TEST_PER_INTENT:
            problems.append(f"tickets/test.jsonl: {intent} has {test_per_intent[intent]} tickets; at least 8")

    for g in golden:
        where = f"golden_replies.jsonl {g.id}"
        problems += _label_problems(where, g.lob, g.intent, g.risk_flags, g.language, taxonomy)
        problems += [f"{where}: no document {d}" for d in g.expected_sop_ids if d not in library.documents]
        problems += [f"{where}: no policy states figure {k!r}" for k in g.required_facts if k not in library.figures]
    for c in safety:
        where = f"safety.jsonl {c.id}"
        problems += _label_problems(where, c.lob, c.intent, c.risk_flags, c.language, taxonomy)
        problems += [f"{where}: secret {s!r} is not in the text" for s in c.secrets if s not in c.text]
        if c.secrets and not set(taxonomy.secret_flags) & set(c.risk_flags):
            problems.append(f"{where}: has secrets but no {' or '.join(taxonomy.secret_flags)} flag")
    problems += _ids_unique([t.id for _, t in tickets], "tickets")
    problems += _ids_unique([g.id for g in golden], "golden_replies.jsonl")
    problems += _ids_unique([c.id for c in safety], "safety.jsonl")
    problems += _sop_reference_problems(library)
    problems += _restated_figure_problems(library)

    report.counts = {
        "split": Counter(s for s, _ in tickets),
        "lob": Counter(t.lob for _, t in tickets),
        "intent": Counter(t.intent for _, t in tickets),
        "language": Counter(t.language for _, t in tickets),
        "risk_flag": Counter(f for _, t in tickets for f in t.risk_flags),
        "golden_action": Counter(g.expected_action for g in golden),
        "safety_category": Counter(c.category for c in safety),
    }
    return report


def _label_problems(
    where: str, lob: str, intent: str, flags: Collection[str], language: str, tax: Taxonomy
) -> list[str]:
    if intent not in tax.lob_of_intent:
        return [f"{where}: unknown intent {intent!r}"]
    problems = []
    if tax.lob_of_intent[intent] != lob:
        problems.append(f"{where}: intent {intent!r} belongs to LOB {tax.lob_of_intent[intent]!r}, not {lob!r}")
    problems += [f"{where}: unknown risk flag {f!r}" for f in flags if f not in tax.risk_flags]
    problems += [
        f"{where}: intent {intent!r} carries risk flag {f!r}, which is not labelled"
        for f in tax.flags_of_intent(intent)
        if f not in flags
    ]
    if language not in tax.languages:
        problems.append(f"{where}: language {language!r} is not in the taxonomy's languages")
    return problems


def _level_problems(where: str, t: LabelledTicket, tax: Taxonomy) -> list[str]:
    if t.priority not in tax.priorities or t.tier not in tax.tiers:
        return [f"{where}: unknown priority {t.priority!r} or tier {t.tier!r}"]
    if t.intent not in tax.lob_of_intent or any(f not in tax.risk_flags for f in t.risk_flags):
        return []
    spec = tax.intent_spec(t.intent)
    floor_priority = min(
        [spec.priority] + [p for f in t.risk_flags if (p := tax.risk_flags[f].priority)], key=tax.priority_rank
    )
    floor_tier = max([spec.tier] + [x for f in t.risk_flags if (x := tax.risk_flags[f].tier)], key=tax.tier_rank)
    problems = []
    if tax.priority_rank(t.priority) > tax.priority_rank(floor_priority):
        problems.append(
            f"{where}: priority {t.priority} is less urgent than its intent and flags give ({floor_priority})"
        )
    if tax.tier_rank(t.tier) < tax.tier_rank(floor_tier):
        problems.append(f"{where}: tier {t.tier} is below what its intent and flags give ({floor_tier})")
    return problems


def _duplicate_problems(items: list[tuple[str, str]]) -> list[str]:
    pairs = near_duplicate_pairs([text for _, text in items])
    return [f"near-duplicates ({score}): {items[i][0]} and {items[j][0]}" for i, j, score in pairs]


def _ids_unique(ids: list[str], where: str) -> list[str]:
    return [f"{where}: id {i} is used {n} times" for i, n in Counter(ids).items() if n > 1]


def _restated_figure_problems(library: SopLibrary) -> list[str]:
    """A figure of two or more digits written out anywhere but its policy's Figures table.

    SOPs and templates refer to figures (`{{fig:...}}`), so a changed policy changes every reply.
    """
    problems = []
    for key, figure in library.figures.items():
        number = re.sub(r"[^\d,.%-]", "", figure.value)
        if len(re.sub(r"\D", "", number)) < 2:
            continue  # single digits are too common in prose to tell apart from the figure
        pattern = figure_pattern(number)
        for doc in library.documents.values():
            for section in doc.sections:
                if section.title == Section.FIGURES:
                    continue  # each policy's own table of its figures
                if pattern.search(PLACEHOLDER.sub("", section.text)):
                    problems.append(
                        f"{doc.id}.md: {section.title}: restates {key} ({figure.value}); use the policy's figure"
                    )
    return problems


def _sop_reference_problems(library: SopLibrary) -> list[str]:
    problems = []
    for doc in library.documents.values():
        text = "\n".join(s.text for s in doc.sections)
        for ref in sorted(set(_DOC_ID.findall(text)) - set(library.documents)):
            problems.append(f"{doc.id}.md: refers to {ref}, which does not exist")
    return problems
