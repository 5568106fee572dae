"""Conflicts between documents: each kind injected into a copy of the shipped library is found, as an error or a
warning naming every file involved; errors stop `load_library`, warnings ride on the library it returns; the
shipped library has no error."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from copilot.domain.taxonomy import Taxonomy
from knowledge_base.conflicts import Conflict, conflicts_in_folder, find_conflicts
from knowledge_base.library import LibraryConflict, load_library
from tests.factories import SOP_DIR

pytestmark = pytest.mark.unit


@pytest.fixture
def sop_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "sop"
    shutil.copytree(SOP_DIR, folder)
    return folder


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def only(conflicts: list[Conflict], kind: str) -> Conflict:
    found = [c for c in conflicts if c.kind == kind]
    assert len(found) == 1, conflicts
    return found[0]


def test_the_shipped_library_has_no_conflict_that_stops_an_ingest(taxonomy: Taxonomy) -> None:
    library = load_library(SOP_DIR, taxonomy)
    assert [c for c in find_conflicts(library) if c.severity == "error"] == []
    assert library.conflicts == [c for c in find_conflicts(library) if c.severity == "warning"]


def test_two_active_sops_for_the_same_intent_with_nothing_telling_them_apart_is_an_error(
    sop_copy: Path, taxonomy: Taxonomy
) -> None:
    twin = (sop_copy / "SOP-CR-03.md").read_text(encoding="utf-8").replace("id: SOP-CR-03", "id: SOP-CR-09", 1)
    (sop_copy / "SOP-CR-09.md").write_text(twin, encoding="utf-8")

    conflict = only(conflicts_in_folder(sop_copy, taxonomy), "same_situation")
    assert conflict.severity == "error"
    assert set(conflict.files) == {"SOP-CR-03.md", "SOP-CR-09.md"}
    assert "intent 'payout_missing'" in conflict.message
    with pytest.raises(LibraryConflict, match=re.escape("SOP-CR-09.md and SOP-CR-03.md")):
        load_library(sop_copy, taxonomy)


def test_two_sops_for_one_intent_are_fine_when_one_says_when_to_use_the_other(
    sop_copy: Path, taxonomy: Taxonomy
) -> None:
    twin = (sop_copy / "SOP-CR-03.md").read_text(encoding="utf-8").replace("id: SOP-CR-03", "id: SOP-CR-09", 1)
    twin = twin.replace(
        "## When this applies\n", "## When this applies\n\nOnly payouts in kind; for money use SOP-CR-03.\n"
    )
    (sop_copy / "SOP-CR-09.md").write_text(twin, encoding="utf-8")

    assert [c for c in conflicts_in_folder(sop_copy, taxonomy) if c.kind == "same_situation"] == []


def test_a_figure_stated_with_two_values_is_an_error_and_with_one_value_twice_a_warning(
    sop_copy: Path, taxonomy: Taxonomy
) -> None:
    row = "| age.min_account | 13 | minimum age to hold an account |\n"
    edit(sop_copy, "POL-AGE.md", row, row + "| rewards.min_followers | 5,000 | followers again |\n")
    conflict = only(conflicts_in_folder(sop_copy, taxonomy), "figure_values")
    assert conflict.severity == "error"
    assert set(conflict.files) == {"POL-AGE.md", "POL-REWARDS.md"}
    assert "'5,000' here, '10,000' there" in conflict.message or "'10,000' here, '5,000' there" in conflict.message

    edit(sop_copy, "POL-AGE.md", "| rewards.min_followers | 5,000 |", "| rewards.min_followers | 10,000 |")
    conflict = only(conflicts_in_folder(sop_copy, taxonomy), "figure_values")
    assert conflict.severity == "warning"
    assert set(conflict.files) == {"POL-AGE.md", "POL-REWARDS.md"}
    assert only(load_library(sop_copy, taxonomy).conflicts, "figure_values") == conflict  # loaded, with the warning


def test_a_template_naming_a_figure_no_policy_states_is_an_error_naming_its_file(
    sop_copy: Path, taxonomy: Taxonomy
) -> None:
    edit(sop_copy, "SOP-CR-03.md", "{{fig:payout.processing_business_days}}", "{{fig:payout.magic_days}}")
    conflict = only(conflicts_in_folder(sop_copy, taxonomy), "undefined_figure")
    assert (conflict.severity, conflict.files) == ("error", ["SOP-CR-03.md"])
    assert "no policy states figure 'payout.magic_days'" in conflict.message


def test_a_retired_document_still_referenced_by_an_active_one_is_a_warning_naming_both(
    sop_copy: Path, taxonomy: Taxonomy
) -> None:
    edit(sop_copy, "SOP-AS-03.md", "status: active", "status: retired")
    found = [c for c in conflicts_in_folder(sop_copy, taxonomy) if c.kind == "retired_reference"]
    referrers = {c.files[0] for c in found}
    assert referrers == {"SOP-AS-01.md", "SOP-AS-02.md", "SOP-CR-07.md", "SOP-EP-01.md", "SOP-GEN-01.md"}
    assert all(c.severity == "warning" and c.files[1] == "SOP-AS-03.md" for c in found)
    assert "still refers to SOP-AS-03.md, which is retired" in found[0].message
    load_library(sop_copy, taxonomy)  # warnings do not stop it


def test_a_file_that_is_invalid_on_its_own_is_reported_as_an_error_naming_it(
    sop_copy: Path, taxonomy: Taxonomy
) -> None:
    edit(sop_copy, "SOP-GEN-01.md", "lob: general", "lob: gardening")
    conflict = only(conflicts_in_folder(sop_copy, taxonomy), "invalid_document")
    assert conflict.files == ["SOP-GEN-01.md"]
    assert "unknown LOB 'gardening'" in conflict.message
