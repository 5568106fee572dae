"""The taxonomy file (sop/taxonomy.yaml) as a validated, read-only model.

Labels are data, not code: every LOB, intent, priority, tier, risk flag and rule comes from the file,
so an organisation can change its taxonomy without touching the copilot.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class TaxonomyError(ValueError):
    """The taxonomy file is missing, unreadable or inconsistent."""


class UnknownLabel(ValueError):
    """A request names a label (a LOB, say) that the taxonomy does not hold; the message names the valid ones."""


class IntentSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    description: str
    priority: str
    tier: str
    flags: list[str] = []  # risk flags a ticket carries when triage applies or suggests this intent


class LobSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    description: str
    intents: dict[str, IntentSpec]


class OutOfScopeSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    label: str
    description: str
    priority: str
    tier: str


class PrioritySpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sla_hours: int = Field(gt=0)
    description: str


class RiskFlagSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    description: str
    priority: str | None
    tier: str | None
    escalate: bool
    queue: str | None
    # The ticket holds a secret (a password, code, card or ID number): redaction removes what the
    # patterns match, and a reply that repeats it fails verification.
    secrets: bool = False
    patterns: list[str] = []


class ConditionSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    description: str
    tier: str
    applies_to_intents: list[str] | None = None
    patterns: list[str] = []


class Defaults(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    priority: str
    tier: str


class Taxonomy(BaseModel):
    """Everything intake needs to label a ticket. Priorities are ordered most urgent first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    lobs: dict[str, LobSpec]
    out_of_scope: OutOfScopeSpec
    priorities: dict[str, PrioritySpec]
    tiers: dict[str, str]
    risk_flags: dict[str, RiskFlagSpec]
    conditions: dict[str, ConditionSpec] = {}
    defaults: Defaults
    languages: list[str]
    # The language replies fall back to where an SOP has no template in the ticket's language, and the
    # one assumed when a ticket's language cannot be told.
    fallback_language: str

    @model_validator(mode="after")
    def _labels_consistent(self) -> Taxonomy:
        seen: dict[str, str] = {}
        for lob, spec in self.lobs.items():
            for intent, ispec in spec.intents.items():
                if intent in seen:
                    raise ValueError(f"intent {intent!r} is listed under both {seen[intent]!r} and {lob!r}")
                seen[intent] = lob
                self._check_level(f"intent {intent!r}", ispec.priority, ispec.tier)
                for carried in ispec.flags:
                    if carried not in self.risk_flags:
                        raise ValueError(f"intent {intent!r} names unknown risk flag {carried!r}")
        for name, flag in self.risk_flags.items():
            self._check_level(f"risk flag {name!r}", flag.priority, flag.tier)
            _compile_all(f"risk flag {name!r}", flag.patterns)
        for name, cond in self.conditions.items():
            self._check_level(f"condition {name!r}", None, cond.tier)
            _compile_all(f"condition {name!r}", cond.patterns)
            for intent in cond.applies_to_intents or []:
                if intent not in seen:
                    raise ValueError(f"condition {name!r} names unknown intent {intent!r}")
        self._check_level("out_of_scope", self.out_of_scope.priority, self.out_of_scope.tier)
        self._check_level("defaults", self.defaults.priority, self.defaults.tier)
        if self.fallback_language not in self.languages:
            raise ValueError(f"fallback_language {self.fallback_language!r} is not in languages {self.languages}")
        return self

    def _check_level(self, where: str, priority: str | None, tier: str | None) -> None:
        if priority is not None and priority not in self.priorities:
            raise ValueError(f"{where}: unknown priority {priority!r}; valid: {sorted(self.priorities)}")
        if tier is not None and tier not in self.tiers:
            raise ValueError(f"{where}: unknown tier {tier!r}; valid: {sorted(self.tiers)}")

    @cached_property
    def lob_of_intent(self) -> dict[str, str]:
        """intent -> LOB, including the out-of-scope label mapped to itself."""
        mapping = {i: lob for lob, spec in self.lobs.items() for i in spec.intents}
        mapping[self.out_of_scope.label] = self.out_of_scope.label
        return mapping

    @property
    def intents(self) -> list[str]:
        """Every in-scope intent, in file order."""
        return [i for spec in self.lobs.values() for i in spec.intents]

    @property
    def labels(self) -> list[str]:
        """Every intent a classifier may predict: the in-scope intents and the out-of-scope label."""
        return [*self.intents, self.out_of_scope.label]

    def intent_spec(self, intent: str) -> IntentSpec | OutOfScopeSpec:
        """The rules of one intent; raises KeyError naming the valid intents."""
        if intent == self.out_of_scope.label:
            return self.out_of_scope
        lob = self.lob_of_intent.get(intent)
        if lob is None:
            raise KeyError(f"unknown intent {intent!r}; valid: {', '.join(self.labels)}")
        return self.lobs[lob].intents[intent]

    def flags_of_intent(self, intent: str) -> list[str]:
        """The risk flags an intent carries by itself (none for the out-of-scope label)."""
        spec = self.intent_spec(intent)
        return spec.flags if isinstance(spec, IntentSpec) else []

    def priority_rank(self, priority: str) -> int:
        """0 for the most urgent priority."""
        return list(self.priorities).index(priority)

    def tier_rank(self, tier: str) -> int:
        """0 for the first (lowest) tier."""
        return list(self.tiers).index(tier)

    @property
    def secret_flags(self) -> list[str]:
        """The risk flags that mean the ticket holds a secret."""
        return [name for name, spec in self.risk_flags.items() if spec.secrets]

    @property
    def escalating_flags(self) -> list[str]:
        """The risk flags that send a ticket to an escalation queue instead of a drafted reply alone."""
        return [name for name, spec in self.risk_flags.items() if spec.escalate]

    @cached_property
    def flag_patterns(self) -> dict[str, list[re.Pattern[str]]]:
        return {name: _compile_all(name, f.patterns) for name, f in self.risk_flags.items()}

    @cached_property
    def condition_patterns(self) -> dict[str, list[re.Pattern[str]]]:
        return {name: _compile_all(name, c.patterns) for name, c in self.conditions.items()}


def _compile_all(where: str, patterns: list[str]) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise ValueError(f"{where}: invalid pattern {pattern!r}: {exc}") from exc
    return compiled


def load_taxonomy(path: Path) -> Taxonomy:
    """Read and validate a taxonomy file; raises TaxonomyError naming the file and the problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Taxonomy.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise TaxonomyError(f"{path}: {field}: {first['msg']}") from exc
