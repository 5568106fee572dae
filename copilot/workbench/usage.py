"""What the SOP writers' reports read: the drafts kept in the records, told apart into real traffic and the drafts
an eval run made (`copilot eval run` drafts every golden and safety case through the real suggest path, which keeps
each draft under the case id as its ticket id), and which document and template each draft rested on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from copilot.domain import Draft
from copilot.domain.drafts import Transition
from copilot.domain.sop_format import Section
from copilot.services import Services
from evals.cases.schemas import GoldenCase, SafetyCase
from evals.cases.validate import read_cases
from evals.run.runner import Datasets
from knowledge_base.chunking import template_section
from knowledge_base.library import SopLibrary

TEMPLATE_PREFIX = f"{Section.REPLY_TEMPLATES}: "  # how a template's passage names its section


@dataclass(frozen=True, order=True)
class TemplateKey:
    """One reply template: `### <template_id> [<locale>]` of a document."""

    doc_id: str
    template_id: str
    locale: str

    def __str__(self) -> str:
        return f"{self.doc_id} {self.template_id} [{self.locale}]"


@dataclass(frozen=True)
class EvalCases:
    golden: list[GoldenCase]
    safety: list[SafetyCase]

    @property
    def ids(self) -> set[str]:
        return {c.id for c in self.golden} | {c.id for c in self.safety}

    @property
    def every(self) -> list[GoldenCase | SafetyCase]:
        return [*self.golden, *self.safety]

    @property
    def count(self) -> int:
        return len(self.golden) + len(self.safety)


@dataclass
class KeptDrafts:
    """The records' drafts: real traffic, and each eval case's newest draft; decisions by draft id."""

    traffic: list[Draft] = field(default_factory=list)
    eval_latest: dict[str, Draft] = field(default_factory=dict)  # case id -> its newest draft
    decisions: dict[str, Transition] = field(default_factory=dict)


def eval_cases(services: Services) -> EvalCases:
    """The shipped golden and safety cases (COPILOT_DATASETS_DIR); raises ValueError for a bad dataset."""
    files = Datasets.shipped(services.settings.datasets_dir)
    return EvalCases(golden=read_cases(files.golden, GoldenCase), safety=read_cases(files.safety, SafetyCase))


def kept_drafts(services: Services, cases: EvalCases) -> KeptDrafts:
    kept = KeptDrafts()
    case_ids = cases.ids
    for draft in services.store.every():  # oldest first: a later draft of a case replaces an earlier one
        if draft.ticket_id in case_ids:
            kept.eval_latest[draft.ticket_id] = draft
        else:
            kept.traffic.append(draft)
    kept.decisions = {draft.id: transition for draft, transition in services.store.decided()}
    return kept


def template_of(draft: Draft) -> TemplateKey | None:
    """The template a draft's text started from: its id and locale are on the draft, its document on the citation
    of the template's own passage. None for a draft written without a template."""
    if not draft.template:
        return None
    section = template_section(draft.template, draft.language)
    cited = next((c for c in draft.citations if c.section == section), None)
    return TemplateKey(cited.doc_id, draft.template, draft.language) if cited else None


def sop_of(draft: Draft, library: SopLibrary) -> str | None:
    """The SOP a draft followed: its template's document, else the first SOP (not policy) it cites."""
    key = template_of(draft)
    if key is not None:
        return key.doc_id
    sops = (c.doc_id for c in draft.citations if _is_sop(c.doc_id, library))
    return next(sops, None)


def sections_cited(draft: Draft) -> set[tuple[str, str]]:
    """(doc id, section) of every citation; a template's passage counts for its document's Reply templates."""
    return {(c.doc_id, _section_title(c.section)) for c in draft.citations}


def latest_per_ticket(drafts: Iterable[Draft]) -> dict[str, Draft]:
    """Each ticket's newest draft (drafts come oldest first): where the ticket ended."""
    return {d.ticket_id: d for d in drafts}


def _section_title(section: str) -> str:
    return Section.REPLY_TEMPLATES.value if section.startswith(TEMPLATE_PREFIX) else section


def _is_sop(doc_id: str, library: SopLibrary) -> bool:
    doc = library.documents.get(doc_id)
    return doc.doc_type == "sop" if doc else doc_id.startswith("SOP-")
