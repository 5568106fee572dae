"""Priority, tier, risk flags and routing from the taxonomy's rules: data in the file, logic here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from copilot.domain.taxonomy import Taxonomy


@dataclass(frozen=True)
class RuleOutcome:
    priority: str
    tier: str
    risk_flags: list[str]
    conditions: list[str]
    escalate: bool
    queue: str | None


def detect_flags(text: str, taxonomy: Taxonomy) -> list[str]:
    """Risk flags whose patterns match the text, in taxonomy order."""
    return [flag for flag, patterns in taxonomy.flag_patterns.items() if any(p.search(text) for p in patterns)]


def detect_conditions(text: str, intent: str, taxonomy: Taxonomy) -> list[str]:
    found = []
    for name, spec in taxonomy.conditions.items():
        if spec.applies_to_intents is not None and intent not in spec.applies_to_intents:
            continue
        if any(p.search(text) for p in taxonomy.condition_patterns[name]):
            found.append(name)
    return found


def apply_rules(
    text: str, intent: str, taxonomy: Taxonomy, *, detected: Sequence[str] = (), abstained: bool = False
) -> RuleOutcome:
    """The most urgent priority and highest tier that the intent, the flags and the conditions give.

    Flags are those the taxonomy's patterns find, plus `detected` (the learned detector's), plus those the
    intent carries by itself unless the classifier `abstained` on it (too unsure even to suggest it). A
    flagged ticket gets its flag's priority and tier whatever the classifier said about the intent.
    """
    carried = [] if abstained else taxonomy.flags_of_intent(intent)
    found = set(detect_flags(text, taxonomy)) | set(detected) | set(carried)
    return level_of(intent, list(found), detect_conditions(text, intent, taxonomy), taxonomy)


def level_of(intent: str, flags: Sequence[str], conditions: Sequence[str], taxonomy: Taxonomy) -> RuleOutcome:
    """Priority, tier, escalation and queue for an intent with these flags and conditions: the most urgent
    priority and highest tier any of them gives (also used when a specialist corrects a ticket's labels)."""
    spec = taxonomy.intent_spec(intent)
    flags = [flag for flag in taxonomy.risk_flags if flag in set(flags)]
    priorities = [spec.priority] + [p for f in flags if (p := taxonomy.risk_flags[f].priority)]
    tiers = [spec.tier] + [t for f in flags if (t := taxonomy.risk_flags[f].tier)]
    tiers += [taxonomy.conditions[c].tier for c in conditions]
    escalating = [f for f in flags if taxonomy.risk_flags[f].escalate]
    queued = escalating or [f for f in flags if taxonomy.risk_flags[f].queue]
    return RuleOutcome(
        priority=min(priorities, key=taxonomy.priority_rank),
        tier=max(tiers, key=taxonomy.tier_rank),
        risk_flags=flags,
        conditions=list(conditions),
        escalate=bool(escalating),
        queue=taxonomy.risk_flags[queued[0]].queue if queued else None,
    )
