"""The dataset validator: the shipped datasets pass, and each kind of defect is reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from copilot.domain.taxonomy import Taxonomy
from evals.cases.similarity import near_duplicate_pairs
from evals.cases.validate import validate_datasets
from knowledge_base.library import SopLibrary, load_library
from tests.factories import DATASETS_DIR, SOP_DIR, TRAINING_DIR

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def library(taxonomy: Taxonomy) -> SopLibrary:
    return load_library(SOP_DIR, taxonomy)


def test_the_shipped_datasets_pass_and_meet_the_content_targets(taxonomy: Taxonomy, library: SopLibrary) -> None:
    report = validate_datasets(DATASETS_DIR, training_dir=TRAINING_DIR, taxonomy=taxonomy, library=library)
    assert report.problems == []
    tickets = sum(report.counts["split"].values())
    assert tickets >= 1000
    assert (tickets - report.counts["language"]["en"]) / tickets >= 0.10
    assert report.counts["intent"]["out_of_scope"] > 0
    assert sum(report.counts["golden_action"].values()) >= 150
    assert sum(report.counts["safety_category"].values()) >= 60


def corrupt(tmp_path: Path, file: str, edit: dict[str, object], line: int = 0) -> tuple[Path, Path]:
    """Copies of the eval sets and the training tickets, with one row of `file` (under either) edited."""
    shutil.copytree(DATASETS_DIR, tmp_path / "datasets")
    shutil.copytree(TRAINING_DIR, tmp_path / "training")
    path = tmp_path / file
    rows = path.read_text(encoding="utf-8").splitlines()
    rows[line] = json.dumps(json.loads(rows[line]) | edit, ensure_ascii=False)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path / "datasets", tmp_path / "training"


@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        ("training/tickets.jsonl", {"intent": "crypto_refund"}, "unknown intent 'crypto_refund'"),
        ("training/tickets.jsonl", {"lob": "verification", "intent": "tax_form"}, "belongs to LOB 'creator_rewards'"),
        ("datasets/tickets/dev.jsonl", {"risk_flags": ["minor_safety"], "priority": "P3", "tier": "T2"}, "less urgent"),
        ("datasets/tickets/dev.jsonl", {"text": "help"}, "1 words"),
        (
            "datasets/tickets/test.jsonl",
            {"lob": "minor_protection", "intent": "minor_safety_risk", "priority": "P1", "tier": "T2"},
            "carries risk flag 'minor_safety', which is not labelled",
        ),
        ("datasets/golden_replies.jsonl", {"expected_sop_ids": ["SOP-ZZ-01"]}, "no document SOP-ZZ-01"),
        (
            "datasets/golden_replies.jsonl",
            {"required_facts": ["rewards.magic"]},
            "no policy states figure 'rewards.magic'",
        ),
        (
            "datasets/safety.jsonl",
            {"secrets": ["p4ssw0rd-not-there"], "risk_flags": ["pii_shared"]},
            "is not in the text",
        ),
        ("datasets/safety.jsonl", {"category": "spam"}, "safety.jsonl:1:"),
    ],
)
def test_each_defect_is_reported_with_where_it_is(
    tmp_path: Path, taxonomy: Taxonomy, library: SopLibrary, file: str, edit: dict[str, object], message: str
) -> None:
    datasets, training = corrupt(tmp_path, file, edit)
    report = validate_datasets(datasets, training_dir=training, taxonomy=taxonomy, library=library)
    assert any(message in p for p in report.problems), report.problems


def test_a_train_ticket_copied_into_test_is_caught_as_leakage(
    tmp_path: Path, taxonomy: Taxonomy, library: SopLibrary
) -> None:
    train_text = json.loads((TRAINING_DIR / "tickets.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]
    datasets, training = corrupt(tmp_path, "datasets/tickets/test.jsonl", {"text": train_text + " thanks!!"})
    report = validate_datasets(datasets, training_dir=training, taxonomy=taxonomy, library=library)
    assert any(p.startswith("near-duplicates") and "train:" in p and "test:" in p for p in report.problems)


def test_the_near_duplicate_rule() -> None:
    a = "my payout from october never arrived and support keeps ignoring me, what is going on"
    assert near_duplicate_pairs([a, a.upper() + "!!"]) == [(0, 1, 1.0)]
    assert near_duplicate_pairs([a, "i can't log in because the code never arrives on my phone"]) == []


def test_a_figure_restated_in_an_sop_is_reported(tmp_path: Path, taxonomy: Taxonomy) -> None:
    sop_dir = tmp_path / "sop"
    shutil.copytree(SOP_DIR, sop_dir)
    path = sop_dir / "SOP-CR-01.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("## What to check\n", "## What to check\n\n- Creators need 10,000 followers.\n", 1),
        encoding="utf-8",
    )
    report = validate_datasets(
        DATASETS_DIR, training_dir=TRAINING_DIR, taxonomy=taxonomy, library=load_library(sop_dir, taxonomy)
    )
    assert any("SOP-CR-01.md: What to check: restates rewards.min_followers" in p for p in report.problems)
