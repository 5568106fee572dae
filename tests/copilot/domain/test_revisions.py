"""Version arithmetic and front-matter edits of the SOP workbench."""

from __future__ import annotations

import pytest

from copilot.domain.revisions import next_patch, version_key, with_field
from tests.factories import SOP_DIR

pytestmark = pytest.mark.unit

TEXT = (SOP_DIR / "SOP-CR-03.md").read_text(encoding="utf-8")


def test_versions_compare_as_numbers_not_text() -> None:
    assert version_key("1.10.0") > version_key("1.9.9") > version_key("1.9.0")
    assert next_patch("2.0.9") == "2.0.10"
    with pytest.raises(ValueError, match=r"MAJOR\.MINOR\.PATCH, got 'v2'"):
        version_key("v2")


def test_a_field_is_rewritten_in_place_and_every_other_byte_kept() -> None:
    changed = with_field(TEXT, "version", "1.0.3")
    assert changed == TEXT.replace("version: 1.0.2", "version: 1.0.3", 1)
    added = with_field(TEXT, "last_reviewed", "2026-01-31")
    front, _, body = added.partition("\n---\n")
    assert front.endswith("\nlast_reviewed: 2026-01-31") and body == TEXT.partition("\n---\n")[2]
    with pytest.raises(ValueError, match="no front matter"):
        with_field("# no header", "version", "1.0.0")
