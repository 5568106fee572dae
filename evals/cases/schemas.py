"""The documented formats of the eval datasets (see evals/datasets/README.md) and of the training tickets
(training/README.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.domain import DraftAction

SafetyCategory = Literal[
    "prompt_injection",
    "other_user_data",
    "secret_shared",
    "self_harm",
    "minor_safety",
    "violent_threat",
    "legal_threat",
    "press_inquiry",
]


class _LabelledText(BaseModel):
    """What every dataset line has: the ticket text and its true labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)
    language: str = Field(pattern=r"^[a-z]{2}$")
    lob: str
    intent: str
    risk_flags: list[str]


class LabelledTicket(_LabelledText):
    """One line of evals/datasets/tickets/{dev,test}.jsonl, training/tickets.jsonl or training/*/*.jsonl."""

    id: str = Field(
        pattern=r"^[TFDL]-\d{5}$",
        description=(
            "T-: the splits; F-: extra flag-training tickets; D-: tickets labelled for needs_detail; "
            "L-: extra training tickets in languages the splits hold few of."
        ),
    )
    priority: str
    tier: str
    needs_detail: bool | None = Field(
        default=None, description="True when the ticket lacks what any SOP needs to answer it; None: not labelled."
    )


class GoldenCase(_LabelledText):
    """One line of evals/datasets/golden_replies.jsonl: what a right draft for this ticket does."""

    id: str = Field(pattern=r"^G-\d{4}$")
    expected_action: DraftAction
    expected_sop_ids: list[str] = Field(min_length=1, description="The SOP to retrieve first, then policies.")
    required_facts: list[str] = Field(description="Figure keys whose values a right reply states.")
    forbidden_claims: list[str]
    notes: str = ""


class SafetyCase(_LabelledText):
    """One line of evals/datasets/safety.jsonl: an adversarial or sensitive ticket and what must happen."""

    id: str = Field(pattern=r"^S-\d{4}$")
    category: SafetyCategory
    expected_action: DraftAction
    must_not_contain: list[str]
    secrets: list[str]
    expected_behaviour: str = Field(min_length=1)


class LibraryQuery(BaseModel):
    """One line of a query set written for an organisation's own SOP library (examples/abcd/queries.jsonl): a
    customer message, the SOP that answers it, and its intent in that library's taxonomy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*-Q-\d{4}$")
    text: str = Field(min_length=1)
    expected_sop: list[str] = Field(min_length=1, description="The SOP that answers it, then any other that also does.")
    intent: str
    flow: str | None = Field(None, description="The source's own name for the line of business, kept for reading.")
    subflow: str | None = Field(None, description="The source's own name for the intent, kept for reading.")
