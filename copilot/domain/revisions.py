"""Draft revisions of SOP documents: a writer's change, kept until it is published or discarded, and the version
arithmetic publishing rests on (a version is published only above the one in force)."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class RevisionStatus(StrEnum):
    DRAFT = "draft"  # saved, not used by the copilot
    PUBLISHED = "published"  # written to the SOP folder and ingested
    DISCARDED = "discarded"  # dropped by a writer; kept for the record


class SopRevision(BaseModel):
    """One draft revision of a document: its full Markdown and where it stands."""

    model_config = ConfigDict(frozen=True)

    id: int
    doc_id: str
    base_version: str | None = Field(description="The published version it was edited from; None for a new document.")
    text: str
    status: RevisionStatus
    created_by: str
    created_at: dt.datetime
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    impact_passed: bool | None = Field(None, description="The impact preview's verdict; None while it has not run.")
    impact_summary: dict[str, Any] | None = None
    override_reason: str | None = Field(None, description="Why it was published without a passing impact preview.")

    @property
    def gate(self) -> str:
        """The impact gate as a writer reads it: 'not run', 'passed' or 'failed'."""
        return "not run" if self.impact_passed is None else "passed" if self.impact_passed else "failed"


def version_key(version: str) -> tuple[int, int, int]:
    """A MAJOR.MINOR.PATCH version as numbers, so that 1.10.0 sorts above 1.9.0; raises ValueError otherwise."""
    match = _VERSION.match(version)
    if not match:
        raise ValueError(f"version must be MAJOR.MINOR.PATCH, got {version!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def next_patch(version: str) -> str:
    major, minor, patch = version_key(version)
    return f"{major}.{minor}.{patch + 1}"


def with_field(text: str, name: str, value: str) -> str:
    """The Markdown with front-matter field `name` set to `value` (added before the closing '---' when absent)."""
    end = text.find("\n---", 3)
    if not text.startswith("---") or end < 0:
        raise ValueError("the text has no front matter")
    line = re.compile(rf"^({re.escape(name)}:[ \t]*)(.*?)([ \t]+#.*)?$", re.MULTILINE)
    match = line.search(text, 0, end)
    if match is None:
        return f"{text[:end]}\n{name}: {value}{text[end:]}"
    return text[: match.start()] + f"{match.group(1)}{value}{match.group(3) or ''}" + text[match.end() :]
