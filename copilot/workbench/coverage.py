"""Coverage of the SOP library: for every document, section and reply template, how many eval cases exercise it,
how often real drafts used it, and how agents decided those drafts. Templates and escalation rules that no eval
case exercises come first: a change to them would pass every eval unnoticed.

An eval case exercises what its draft (the newest the records keep for the case id, made by `copilot eval run`)
cites, and the documents the case expects (`expected_sop_ids`). An escalation rule is an escalating risk flag of
the taxonomy (a case labelled with the flag exercises it) or an SOP that requires escalation (a case that expects
it or whose draft cites it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from pydantic import BaseModel, Field

from copilot.domain import Draft, DraftStatus, Ticket
from copilot.domain.drafts import Transition
from copilot.domain.sop_format import Section
from copilot.services import Services
from copilot.workbench.usage import (
    EvalCases,
    KeptDrafts,
    TemplateKey,
    eval_cases,
    kept_drafts,
    sections_cited,
    template_of,
)
from evals.suites.reply import draft_all

Progress = Callable[[int], None]


class Usage(BaseModel):
    """How a part of the library was used: by eval cases, and by real drafts and their decisions."""

    eval_cases: int = 0
    drafts: int = 0
    approved: int = 0
    edited: int = 0
    rejected: int = 0
    pending: int = 0
    reject_reasons: dict[str, int] = Field(default_factory=dict)

    @property
    def decided(self) -> int:
        return self.approved + self.edited + self.rejected

    def share(self, count: int) -> float | None:
        """A share of the decided drafts; None when none was decided."""
        return round(count / self.decided, 3) if self.decided else None


class TemplateCoverage(BaseModel):
    doc_id: str
    template_id: str
    locale: str
    usage: Usage


class SectionCoverage(BaseModel):
    doc_id: str
    section: str
    usage: Usage


class DocumentCoverage(BaseModel):
    doc_id: str
    title: str
    doc_type: str
    usage: Usage
    sections: list[SectionCoverage]
    templates: list[TemplateCoverage]


class EscalationRule(BaseModel):
    rule: str = Field(description="The rule as a writer reads it.")
    kind: str = Field(description="risk_flag: a taxonomy flag that escalates; sop: an SOP requiring escalation.")
    doc_id: str | None = Field(description="The SOP that handles it, if any.")
    eval_cases: int


class CoverageReport(BaseModel):
    eval_cases: int = Field(description="Golden and safety cases.")
    eval_cases_with_draft: int = Field(description="Cases whose draft the records keep (made by an eval run).")
    traffic_drafts: int = Field(description="Drafts of real tickets (not eval cases) in the records.")
    untested_templates: list[TemplateCoverage] = Field(description="Templates no eval case exercises.")
    untested_rules: list[EscalationRule] = Field(description="Escalation rules no eval case exercises.")
    templates: int
    rules: list[EscalationRule]
    documents: list[DocumentCoverage] = Field(description="Documents with untested templates first, then by id.")

    def summary(self) -> str:
        return (
            f"{len(self.untested_templates)} of {self.templates} templates and {len(self.untested_rules)} of "
            f"{len(self.rules)} escalation rules are exercised by no eval case "
            f"({self.eval_cases_with_draft} of {self.eval_cases} eval cases have a draft; "
            f"{self.traffic_drafts} real drafts)"
        )


def missing_eval_drafts(services: Services) -> list[str]:
    """Eval case ids the records keep no draft for."""
    cases = eval_cases(services)
    kept = kept_drafts(services, cases)
    return sorted(cases.ids - set(kept.eval_latest))


def draft_eval_cases(services: Services, case_ids: Iterable[str], progress: Progress | None = None) -> int:
    """Draft these eval cases through the real suggest path, as `copilot eval run` does (the drafts are kept
    under the case ids); needs the triage model. Returns how many were drafted."""
    cases = eval_cases(services)
    wanted = set(case_ids)
    texts = [(c.id, c.text) for c in cases.every if c.id in wanted]
    draft_all(services, [Ticket(id=case_id, text=text) for case_id, text in texts], progress)
    return len(texts)


def coverage(services: Services) -> CoverageReport:
    """The coverage of the library in force, from the eval datasets and the drafts in the records."""
    library = services.library
    cases = eval_cases(services)
    kept = kept_drafts(services, cases)
    eval_hits = _eval_hits(cases, kept)
    traffic = _traffic_usage(kept)
    documents = []
    for doc in sorted(library.documents.values(), key=lambda d: d.id):
        if doc.status != "active":
            continue
        titles = [s.title for s in doc.sections]
        documents.append(
            DocumentCoverage(
                doc_id=doc.id,
                title=doc.title,
                doc_type=doc.doc_type,
                usage=_usage(traffic, eval_hits, ("doc", doc.id)),
                sections=[
                    SectionCoverage(
                        doc_id=doc.id, section=title, usage=_usage(traffic, eval_hits, ("section", doc.id, title))
                    )
                    for title in titles
                ],
                templates=[
                    TemplateCoverage(
                        doc_id=doc.id,
                        template_id=t.template_id,
                        locale=t.locale,
                        usage=_usage(traffic, eval_hits, TemplateKey(doc.id, t.template_id, t.locale)),
                    )
                    for t in doc.templates
                ],
            )
        )
    templates = [t for d in documents for t in d.templates]
    untested = [t for t in templates if t.usage.eval_cases == 0]
    rules = _escalation_rules(services, cases, eval_hits)
    documents.sort(key=lambda d: (not any(t.usage.eval_cases == 0 for t in d.templates), d.doc_id))
    return CoverageReport(
        eval_cases=cases.count,
        eval_cases_with_draft=len(kept.eval_latest),
        traffic_drafts=len(kept.traffic),
        untested_templates=untested,
        untested_rules=[r for r in rules if r.eval_cases == 0],
        templates=len(templates),
        rules=rules,
        documents=documents,
    )


# What a draft or case may exercise: ("doc", doc id), ("section", doc id, title) or a TemplateKey.
Part = tuple[str, ...] | TemplateKey


def _parts(draft: Draft) -> set[Part]:
    parts: set[Part] = {("doc", c.doc_id) for c in draft.citations}
    parts |= {("section", doc_id, title) for doc_id, title in sections_cited(draft)}
    key = template_of(draft)
    if key is not None:
        parts.add(key)
    return parts


def _eval_hits(cases: EvalCases, kept: KeptDrafts) -> dict[Part, set[str]]:
    """Which eval cases exercise each part."""
    hits: dict[Part, set[str]] = defaultdict(set)
    for case in cases.golden:
        for doc_id in case.expected_sop_ids:
            hits["doc", doc_id].add(case.id)
    for case_id, draft in kept.eval_latest.items():
        for part in _parts(draft):
            hits[part].add(case_id)
    return hits


def _traffic_usage(kept: KeptDrafts) -> dict[Part, Usage]:
    usage: dict[Part, Usage] = defaultdict(Usage)
    for draft in kept.traffic:
        for part in _parts(draft):
            _count(usage[part], draft, kept.decisions.get(draft.id))
    return usage


def _count(usage: Usage, draft: Draft, decision: Transition | None) -> None:
    usage.drafts += 1
    if draft.status is DraftStatus.APPROVED:
        usage.approved += 1
    elif draft.status is DraftStatus.EDITED:
        usage.edited += 1
    elif draft.status is DraftStatus.REJECTED:
        usage.rejected += 1
        reason = decision.reason.value if decision and decision.reason else "unknown"
        usage.reject_reasons = dict(Counter(usage.reject_reasons) + Counter([reason]))
    else:
        usage.pending += 1


def _usage(traffic: dict[Part, Usage], eval_hits: dict[Part, set[str]], part: Part) -> Usage:
    found = traffic.get(part, Usage()).model_copy()
    found.eval_cases = len(eval_hits.get(part, ()))
    return found


def _escalation_rules(services: Services, cases: EvalCases, eval_hits: dict[Part, set[str]]) -> list[EscalationRule]:
    library, taxonomy = services.library, services.taxonomy
    labelled: dict[str, set[str]] = defaultdict(set)
    for case in cases.every:
        for flag in case.risk_flags:
            labelled[flag].add(case.id)
    rules = []
    for flag in taxonomy.escalating_flags:
        spec, handler = taxonomy.risk_flags[flag], library.escalation_sop_for(flag)
        where = handler.id if handler else "no SOP"
        rules.append(
            EscalationRule(
                rule=f"risk flag {flag} escalates to {spec.queue or 'its queue'} ({where})",
                kind="risk_flag",
                doc_id=handler.id if handler else None,
                eval_cases=len(labelled[flag]),
            )
        )
    for doc in sorted(library.active(), key=lambda d: d.id):
        if doc.doc_type == "sop" and doc.requires_escalation:
            section = doc.section(Section.WHEN_TO_ESCALATE)
            rules.append(
                EscalationRule(
                    rule=f"{doc.id} requires escalation to {doc.escalation_queue}"
                    + ("" if section else " (no 'When to escalate' section)"),
                    kind="sop",
                    doc_id=doc.id,
                    eval_cases=len(eval_hits.get(("doc", doc.id), ())),
                )
            )
    return rules
