"""Priority, tier and risk flags come from the taxonomy's rules, whatever the classifier says."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from copilot.domain.taxonomy import Taxonomy, TaxonomyError, load_taxonomy
from copilot.triage.rules import apply_rules, detect_flags
from tests.factories import SOP_DIR

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("some guy keeps messaging my 12 year old daughter asking her to send pics", "minor_safety"),
        ("honestly i don't see the point anymore, everyone hates my videos", "self_harm"),
        ("já denunciei mil vezes e nada. às vezes penso em sumir de vez, não quero mais viver assim", "self_harm"),
        ("ya no quiero vivir así, todos los días me insultan en los comentarios", "self_harm"),
        ("I know where your office is and I'll find you", "violent_threat"),
        ("my lawyer will be in touch, we're taking legal action", "legal_threat"),
        ("I'm a reporter at the Daily Ledger writing a story on creator payouts", "press_inquiry"),
        ("my password is Sunshine!2024 please log in and fix it", "pii_shared"),
        ("card 4539 1488 0343 6467 was charged twice", "pii_shared"),
        ("send the prize to ul. Kwiatowa 8/2, 02-511 Warszawa please", "pii_shared"),
        ("they keep writing in my live that they will torch my studio this weekend", "violent_threat"),
    ],
)
def test_each_risk_flag_is_caught(taxonomy: Taxonomy, text: str, flag: str) -> None:
    assert flag in detect_flags(text, taxonomy)


@pytest.mark.parametrize(
    "text",
    [
        "hey when do qualified views update? my dashboard shows 0 since tuesday",
        "my mom will kill me if the payout is late again, it's been 9 days",
        "minha mãe vai me matar se esse pagamento atrasar de novo kkkk",
        "comment on conjugue venir au passé simple ? c'est pour mon devoir",
    ],
)
def test_an_ordinary_ticket_has_no_flags(taxonomy: Taxonomy, text: str) -> None:
    assert detect_flags(text, taxonomy) == []


def test_a_flag_overrides_the_intents_priority_and_tier(taxonomy: Taxonomy) -> None:
    calm = apply_rules("what is family pairing and how do i set it up", "family_pairing", taxonomy)
    risky = apply_rules("a man on live asked my 13 year old son to meet up in person", "family_pairing", taxonomy)
    assert (calm.priority, calm.tier, calm.escalate) == ("P3", "T1", False)
    assert (risky.priority, risky.tier, risky.escalate) == ("P1", "T2", True)
    assert risky.queue == "minor-safety-response"


def test_a_minor_at_risk_is_escalated_by_its_intent_when_no_pattern_matches(taxonomy: Taxonomy) -> None:
    text = "中学生の娘が、知らない大人の男性からDMで何度も会おうと誘われています"
    assert detect_flags(text, taxonomy) == []
    outcome = apply_rules(text, "minor_safety_risk", taxonomy)
    assert outcome.risk_flags == ["minor_safety"]
    assert (outcome.escalate, outcome.queue) == (True, "minor-safety-response")
    assert apply_rules(text, "underage_report", taxonomy).risk_flags == []
    # Too unsure even to suggest the intent: the ticket goes to human triage without the intent's flag.
    assert apply_rules(text, "minor_safety_risk", taxonomy, abstained=True).risk_flags == []


def test_a_repeat_appeal_goes_to_tier_2(taxonomy: Taxonomy) -> None:
    outcome = apply_rules("this is my second appeal, the first was rejected", "ban_appeal", taxonomy)
    assert outcome.conditions == ["repeat_appeal"] and outcome.tier == "T2"
    assert apply_rules("this is my second appeal", "login_issue", taxonomy).tier == "T1"


def test_rules_are_read_from_the_file_not_the_code(tmp_path: Path) -> None:
    raw = yaml.safe_load((SOP_DIR / "taxonomy.yaml").read_text(encoding="utf-8"))
    raw["lobs"]["general"]["intents"]["product_feedback"]["priority"] = "P2"
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert apply_rules("love the new editor!", "product_feedback", load_taxonomy(path)).priority == "P2"


def test_a_taxonomy_with_an_unknown_priority_names_it(tmp_path: Path) -> None:
    raw = yaml.safe_load((SOP_DIR / "taxonomy.yaml").read_text(encoding="utf-8"))
    raw["lobs"]["general"]["intents"]["bug_report"]["priority"] = "P9"
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(TaxonomyError, match="unknown priority 'P9'"):
        load_taxonomy(path)


def test_an_intent_carrying_an_unknown_flag_is_named(tmp_path: Path) -> None:
    raw = yaml.safe_load((SOP_DIR / "taxonomy.yaml").read_text(encoding="utf-8"))
    raw["lobs"]["general"]["intents"]["bug_report"]["flags"] = ["fraud"]
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(TaxonomyError, match="intent 'bug_report' names unknown risk flag 'fraud'"):
        load_taxonomy(path)
