"""Checking a document's text as a writer types it: each problem names the field (or section) and its line, and
the library's cross-checks apply as an ingest would apply them."""

from __future__ import annotations

import pytest

from copilot.domain.taxonomy import Taxonomy
from knowledge_base.checking import check_markdown, referrers_of
from knowledge_base.library import SopLibrary, load_library
from tests.factories import SOP_DIR

pytestmark = pytest.mark.unit

SOP = (SOP_DIR / "SOP-CR-03.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def library(taxonomy: Taxonomy) -> SopLibrary:
    return load_library(SOP_DIR, taxonomy)


@pytest.mark.parametrize(
    ("old", "new", "field", "line_holds", "message"),
    [
        (
            "lob: creator_rewards",
            "lob: creator_rewardz",
            "lob",
            "lob: creator_rewardz",
            "unknown LOB 'creator_rewardz'",
        ),
        ("version: 1.0.2", "version: one", "version", "version: one", "should match pattern"),
        ("title: Missing or short payouts", "title: [unclosed", "front matter", "title: [unclosed", "not valid YAML"),
        ("owner: payments-ops\n", "", "owner", "---", "Field required"),
        ("## Never say or promise", "## Things to avoid", "sections", "## When to escalate", "missing '## Never say"),
        (
            "Hi {{creator_handle|there}},",
            "Hi {{creator_handle}},",
            "Reply templates",
            "Hi {{creator_handle}},",
            "fallback",
        ),
        (
            "{{fig:payout.processing_business_days}}",
            "{{fig:payout.nope}}",
            "Reply templates",
            "{{fig:payout.nope}}",
            "no policy states figure 'payout.nope'",
        ),
        ("supersedes: null", "supersedes: SOP-CR-42", "supersedes", "supersedes: SOP-CR-42", "no document 'SOP-CR-42'"),
    ],
)
def test_a_problem_names_the_field_and_the_line_it_is_on(
    taxonomy: Taxonomy, library: SopLibrary, old: str, new: str, field: str, line_holds: str, message: str
) -> None:
    assert old in SOP
    text = SOP.replace(old, new, 1)

    checked = check_markdown(text, doc_id="SOP-CR-03", taxonomy=taxonomy, library=library)

    [problem] = checked.problems[:1]
    assert not checked.ok and problem.field == field and message in problem.message
    assert problem.document == "SOP-CR-03.md" and problem.line is not None
    assert line_holds in text.splitlines()[problem.line - 1]


def test_the_published_text_checks_and_the_id_must_match_the_file(taxonomy: Taxonomy, library: SopLibrary) -> None:
    assert check_markdown(SOP, doc_id="SOP-CR-03", taxonomy=taxonomy, library=library).ok
    [problem] = check_markdown(SOP, doc_id="SOP-CR-33", taxonomy=taxonomy, library=library).problems
    assert (problem.field, problem.line) == ("id", 2) and "must match the file name" in problem.message


def test_a_change_that_breaks_another_document_names_that_document(taxonomy: Taxonomy, library: SopLibrary) -> None:
    policy = (SOP_DIR / "POL-REWARDS.md").read_text(encoding="utf-8")
    text = policy.replace("| payout.min_withdrawal_usd |", "| payout.minimum_withdrawal |", 1)

    problems = check_markdown(text, doc_id="POL-REWARDS", taxonomy=taxonomy, library=library).problems

    assert problems and all(p.line is None for p in problems)
    assert {p.document for p in problems} >= {"SOP-CR-03.md"}
    assert any("payout.min_withdrawal_usd" in p.message for p in problems)


def test_a_figure_stated_twice_points_at_its_row(taxonomy: Taxonomy, library: SopLibrary) -> None:
    row = "| payout.min_withdrawal_usd | USD 5 | stated again |"
    text = SOP.replace(
        "## When this applies",
        f"## Figures\n| figure | value | meaning |\n| --- | --- | --- |\n{row}\n\n## When this applies",
    )

    [problem] = check_markdown(text, doc_id="SOP-CR-03", taxonomy=taxonomy, library=library).problems

    assert problem.field == "Figures" and text.splitlines()[problem.line - 1] == row  # type: ignore[operator]


def test_the_documents_that_refer_to_one_are_listed_with_how(library: SopLibrary) -> None:
    found = referrers_of("POL-REWARDS", library)
    how = {r.how for r in found if r.doc_id == "SOP-CR-03"}
    assert any(h.startswith("names it in") for h in how) and any("payout.min_withdrawal_usd" in h for h in how)
    assert all(r.doc_id != "POL-REWARDS" for r in found)
