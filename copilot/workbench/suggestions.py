"""Suggested edits to reply templates, from the specialists' edits to the drafts made from them.

For each template, its edited drafts are compared with what was sent, sentence by sentence: a sentence that a
large share of the edits add (or delete) is proposed as an edit to the template, with those edited drafts as the
evidence (`suggestion_min_share` of at least `suggestion_min_edits` edits). A deleted sentence is traced back to
the template sentence it was filled from (placeholders match any text), so that "Hi @mila," and "Hi @leo," are
one sentence of the template. Accepting a suggestion saves the template's document with the change (and the
next patch version) as a draft revision, which goes through the impact preview before anyone publishes it;
dismissing it is kept in the audit log, and either way it is not proposed again.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from copilot.domain import ReplyTemplate
from copilot.domain.accounts import Actor
from copilot.domain.drafts import DraftStatus, utcnow
from copilot.domain.placeholders import PLACEHOLDER
from copilot.domain.records import AuditAction, AuditEntry
from copilot.domain.revisions import next_patch, with_field
from copilot.services import Services
from copilot.workbench.usage import TemplateKey, eval_cases, kept_drafts, template_of

Operation = Literal["add", "delete"]
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_DECIDED_ACTIONS = (AuditAction.SOP_SUGGESTION_ACCEPTED, AuditAction.SOP_SUGGESTION_DISMISSED)


class SuggestionNotFound(KeyError):
    def __init__(self, suggestion_id: str) -> None:
        super().__init__(suggestion_id)
        self.suggestion_id = suggestion_id

    def __str__(self) -> str:
        return f"no open suggestion with id {self.suggestion_id!r} (accepted, dismissed, or no longer supported)"


class Evidence(BaseModel):
    draft_id: str
    ticket_id: str
    edited_by: str
    edited_at: str


class Suggestion(BaseModel):
    id: str = Field(description="A fingerprint of the template, the operation and the sentence.")
    doc_id: str
    template_id: str
    locale: str
    operation: Operation
    sentence: str = Field(description="The sentence to add to the template, or the template's sentence to delete.")
    edits_with: int = Field(description="Edited drafts of the template that make this change.")
    edits_total: int = Field(description="Edited drafts of the template.")
    share: float
    template_body: str
    proposed_body: str
    evidence: list[Evidence]


@dataclass(frozen=True)
class Accepted:
    suggestion: Suggestion
    revision_id: int


def sentences(text: str) -> list[str]:
    """A text's sentences, line by line (a greeting or sign-off line is a sentence of its own)."""
    return [s.strip() for line in text.splitlines() for s in _SENTENCE_END.split(line) if s.strip()]


def _norm(sentence: str) -> str:
    return re.sub(r"\s+", " ", sentence).strip().casefold()


def fingerprint(key: TemplateKey, operation: Operation, sentence: str) -> str:
    raw = f"{key.doc_id}|{key.template_id}|{key.locale}|{operation}|{_norm(sentence)}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def suggestions(services: Services) -> list[Suggestion]:
    """Every open suggestion (neither accepted nor dismissed), the most shared first."""
    settings = services.settings
    closed = _closed(services)
    edits = _edits_by_template(services)
    found: list[Suggestion] = []
    for key, group in sorted(edits.items()):
        template = _template(services, key)
        if template is None or len(group) < settings.suggestion_min_edits:
            continue
        for suggestion in _from_edits(key, template, group, min_share=settings.suggestion_min_share):
            if suggestion.id not in closed:
                found.append(suggestion)
    return sorted(found, key=lambda s: (-s.share, -s.edits_with, s.doc_id, s.template_id, s.sentence))


def accept(suggestion_id: str, *, services: Services, by: Actor) -> Accepted:
    """Save the suggested template change as a draft revision of its document (the next patch version) and close
    the suggestion. Raises SuggestionNotFound, or RevisionInvalid when the changed document does not check."""
    from copilot.workbench.revisions import published, save_revision

    suggestion = _open(suggestion_id, services)
    doc, text = published(suggestion.doc_id, services=services)
    heading = text.index(f"### {suggestion.template_id} [{suggestion.locale}]")
    start = text.index(suggestion.template_body, heading)
    changed = text[:start] + suggestion.proposed_body + text[start + len(suggestion.template_body) :]
    revision = save_revision(doc.id, with_field(changed, "version", next_patch(doc.version)), services=services, by=by)
    _close(services, suggestion, AuditAction.SOP_SUGGESTION_ACCEPTED, by, revision=revision.id)
    return Accepted(suggestion=suggestion, revision_id=revision.id)


def dismiss(suggestion_id: str, *, services: Services, by: Actor) -> Suggestion:
    """Keep a writer's dismissal in the audit log, so the suggestion is not proposed again; raises
    SuggestionNotFound."""
    suggestion = _open(suggestion_id, services)
    _close(services, suggestion, AuditAction.SOP_SUGGESTION_DISMISSED, by)
    return suggestion


def _open(suggestion_id: str, services: Services) -> Suggestion:
    found = next((s for s in suggestions(services) if s.id == suggestion_id), None)
    if found is None:
        raise SuggestionNotFound(suggestion_id)
    return found


def _close(services: Services, suggestion: Suggestion, action: AuditAction, by: Actor, **detail: Any) -> None:
    services.audit.record(
        AuditEntry.of(
            by,
            action,
            suggestion.id,
            utcnow(),
            doc_id=suggestion.doc_id,
            template=f"{suggestion.template_id} [{suggestion.locale}]",
            operation=suggestion.operation,
            edits_with=suggestion.edits_with,
            **detail,
        )
    )


def _closed(services: Services) -> set[str]:
    return {
        entry.target
        for action in _DECIDED_ACTIONS
        for entry in services.audit.entries(action=action, limit=100_000)
        if entry.target
    }


@dataclass(frozen=True)
class _Edit:
    evidence: Evidence
    drafted: list[str]  # the draft's sentences
    sent: list[str]  # the sentences of the text the specialist sent
    sent_text: str


def _edits_by_template(services: Services) -> dict[TemplateKey, list[_Edit]]:
    kept = kept_drafts(services, eval_cases(services))
    by_template: dict[TemplateKey, list[_Edit]] = defaultdict(list)
    for draft in kept.traffic:
        decision = kept.decisions.get(draft.id)
        key = template_of(draft)
        if draft.status is not DraftStatus.EDITED or decision is None or not decision.final_text or key is None:
            continue
        evidence = Evidence(
            draft_id=draft.id, ticket_id=draft.ticket_id, edited_by=decision.actor, edited_at=decision.at.isoformat()
        )
        final = decision.final_text
        by_template[key].append(_Edit(evidence, sentences(draft.reply or ""), sentences(final), final))
    return by_template


def _template(services: Services, key: TemplateKey) -> ReplyTemplate | None:
    doc = services.library.documents.get(key.doc_id)
    if doc is None or doc.status != "active":
        return None
    return next((t for t in doc.templates if (t.template_id, t.locale) == (key.template_id, key.locale)), None)


def _from_edits(key: TemplateKey, template: ReplyTemplate, edits: list[_Edit], *, min_share: float) -> list[Suggestion]:
    body = template.body
    own = sentences(body)
    readers = [(sentence, _filled_pattern(sentence)) for sentence in own]

    def source(sentence: str) -> str | None:
        """The template sentence a drafted sentence was filled from."""
        return next((s for s, pattern in readers if pattern.fullmatch(_norm(sentence))), None)

    added: dict[str, list[tuple[_Edit, str | None, bool]]] = defaultdict(list)  # sentence -> (edit, after, own line)
    deleted: dict[str, list[_Edit]] = defaultdict(list)
    spelled: dict[str, Counter[str]] = defaultdict(Counter)
    for edit in edits:
        drafted, sent = {_norm(s) for s in edit.drafted}, {_norm(s) for s in edit.sent}
        seen: set[str] = set()  # a sentence added twice in one edit counts once
        for n, sentence in enumerate(edit.sent):
            if _norm(sentence) in drafted or _norm(sentence) in seen:
                continue
            seen.add(_norm(sentence))
            before = source(edit.sent[n - 1]) if n else None
            added[_norm(sentence)].append((edit, before, _on_own_line(sentence, edit)))
            spelled[_norm(sentence)][sentence] += 1
        gone = {source(s) for s in edit.drafted if _norm(s) not in sent}
        for template_sentence in gone - {None}:
            assert template_sentence is not None
            deleted[template_sentence].append(edit)
    total = len(edits)
    found = []
    in_template = {_norm(s) for s in own}
    for normed, uses in added.items():
        if len(uses) / total < min_share or normed in in_template:
            continue
        sentence = spelled[normed].most_common(1)[0][0]
        after = Counter(before for _, before, _ in uses).most_common(1)[0][0]
        own_line = sum(line for _, _, line in uses) * 2 >= len(uses)
        found.append(_suggestion(key, "add", sentence, body, _added(body, sentence, after, own_line), uses, total))
    for sentence, with_it in deleted.items():
        if len(with_it) / total >= min_share:
            uses = [(edit, None, False) for edit in with_it]
            found.append(_suggestion(key, "delete", sentence, body, _deleted(body, sentence), uses, total))
    return found


def _suggestion(
    key: TemplateKey,
    operation: Operation,
    sentence: str,
    body: str,
    proposed: str,
    uses: list[tuple[_Edit, str | None, bool]],
    total: int,
) -> Suggestion:
    return Suggestion(
        id=fingerprint(key, operation, sentence),
        doc_id=key.doc_id,
        template_id=key.template_id,
        locale=key.locale,
        operation=operation,
        sentence=sentence,
        edits_with=len(uses),
        edits_total=total,
        share=round(len(uses) / total, 3),
        template_body=body,
        proposed_body=proposed,
        evidence=[edit.evidence for edit, _, _ in uses],
    )


def _filled_pattern(template_sentence: str) -> re.Pattern[str]:
    """A template sentence as the drafts read it: each placeholder matches whatever filled it."""
    parts = PLACEHOLDER.split(template_sentence)
    # PLACEHOLDER has three groups: split gives text, name, key, fallback, text, ...
    texts = parts[::4]
    return re.compile(".*?".join(re.escape(re.sub(r"\s+", " ", t).casefold()) for t in texts))


def _on_own_line(sentence: str, edit: _Edit) -> bool:
    return any(line.strip() == sentence for line in edit.sent_text.splitlines())


def _added(body: str, sentence: str, after: str | None, own_line: bool) -> str:
    """The body with the sentence after the template sentence it most often follows (before the sign-off when it
    follows none)."""
    if after is not None and after in body:
        at = body.index(after) + len(after)
        return body[:at] + ("\n\n" if own_line else " ") + sentence + body[at:]
    head, _, last = body.rpartition("\n\n")
    return f"{head}\n\n{sentence}\n\n{last}" if head else f"{sentence}\n\n{body}"


def _deleted(body: str, sentence: str) -> str:
    text = body.replace(sentence, "", 1)
    text = re.sub(r"[ \t]+\n", "\n", re.sub(r"[ \t]{2,}", " ", text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
