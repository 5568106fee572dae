"""Loading SOP files: the shipped library loads; broken files fail naming the file and the field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from copilot.domain.taxonomy import Taxonomy
from knowledge_base.library import load_library
from knowledge_base.loader import SopError, load_document
from tests.factories import SOP_DIR

pytestmark = pytest.mark.unit


def test_the_shipped_library_loads_with_every_intent_covered(taxonomy: Taxonomy) -> None:
    library = load_library(SOP_DIR, taxonomy)
    covered = {i for d in library.active() for i in d.intents}
    assert covered == set(taxonomy.intents)
    assert library.figures["rewards.min_followers"].doc_id == "POL-REWARDS"


def test_a_template_is_parsed_with_its_locale_and_use_when(taxonomy: Taxonomy) -> None:
    doc = load_document(SOP_DIR / "SOP-CR-03.md", taxonomy)
    assert {t.locale for t in doc.templates} >= {"en", "es"}
    assert all(t.use_when for t in doc.templates_in("en"))


def broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    path = tmp_path / name
    text = (SOP_DIR / name).read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("lob: creator_rewards", "lob: creator_rewardz", r"SOP-CR-03.md: lob: unknown LOB 'creator_rewardz'"),
        ("intents: [payout_missing]", "intents: [payout_lost]", r"SOP-CR-03.md: intents: unknown intent 'payout_lost'"),
        ("version: 1.0.2", "version: one", r"SOP-CR-03.md: version: String should match pattern"),
        ("effective_date: 2026-09-01", "effective_date: someday", r"SOP-CR-03.md: effective_date:"),
        ("tier: T1", "tier: T9", r"SOP-CR-03.md: tier: unknown tier 'T9'"),
        ("---\nid:", "id:", r"SOP-CR-03.md: front matter: the file must start with a '---' YAML block"),
        ("title: Missing or short payouts", "title: [unclosed", r"SOP-CR-03.md: front matter: not valid YAML"),
        ("## Never say or promise", "## Things to avoid", r"SOP-CR-03.md: sections: missing '## Never say or promise'"),
        ("{{creator_handle|there}}", "{{creator_handle}}", r"needs a fallback"),
        ("{{creator_handle|there}}", "{{creator_name|there}}", r"unknown placeholder 'creator_name'"),
    ],
)
def test_a_malformed_sop_names_the_file_and_the_field(
    tmp_path: Path, taxonomy: Taxonomy, old: str, new: str, message: str
) -> None:
    path = broken_copy(tmp_path, "SOP-CR-03.md", old, new)
    with pytest.raises(SopError, match=message):
        load_document(path, taxonomy)


def test_a_template_using_a_figure_no_policy_states_fails_the_library(tmp_path: Path, taxonomy: Taxonomy) -> None:
    for path in SOP_DIR.glob("*.md"):
        shutil.copy(path, tmp_path / path.name)
    broken_copy(tmp_path, "SOP-CR-03.md", "{{fig:payout.processing_business_days}}", "{{fig:payout.magic_days}}")
    with pytest.raises(SopError, match=re.escape("no policy states figure 'payout.magic_days'")):
        load_library(tmp_path, taxonomy)


def test_a_file_whose_id_differs_from_its_name_is_refused(tmp_path: Path, taxonomy: Taxonomy) -> None:
    path = tmp_path / "SOP-CR-99.md"
    path.write_text((SOP_DIR / "SOP-CR-03.md").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(SopError, match=re.escape("SOP-CR-99.md: id: 'SOP-CR-03' must match the file name")):
        load_document(path, taxonomy)
