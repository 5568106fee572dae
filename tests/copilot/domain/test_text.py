"""The one rule for what text the copilot accepts: no control characters, tabs and line breaks only in free text."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from copilot.domain import Decision, DecisionKind, Ticket
from copilot.domain.accounts import Actor
from copilot.domain.text import CleanLine, CleanText, ControlCharacters, control_character, refuse_control_characters

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "character",
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x92", "\x9b", "\x9f", "\ud800"],
)
def test_control_characters_and_lone_surrogates_are_refused_in_text_and_lines(character: str) -> None:
    for one_line in (False, True):
        problem = control_character(f"ab{character}cd", one_line=one_line)
        assert problem is not None
        assert f"U+{ord(character):04X}" in problem and "position 2" in problem


def test_tabs_and_line_breaks_are_text_but_not_a_line() -> None:
    text = "Hi,\r\n\tmy payout\nis late"
    assert control_character(text, one_line=False) is None
    assert control_character(text, one_line=True) == "contains U+000D, a control character, at position 3"


def test_letters_of_every_script_emoji_and_typographic_characters_are_kept() -> None:
    text = "¿Dónde está mi pago? 支付在哪里 — “ok” € 🙂 \u00a0\u200b"
    assert control_character(text, one_line=True) is None


def test_the_refusal_names_the_field() -> None:
    with pytest.raises(ControlCharacters, match=r"^helpdesk id: contains U\+0000"):
        refuse_control_characters("HD\x00", one_line=True, field="helpdesk id")


def test_the_types_refuse_through_pydantic_naming_the_field() -> None:
    class Form(BaseModel):
        name: CleanLine
        note: CleanText

    with pytest.raises(ValidationError) as raised:
        Form(name="mila", note="late\x00")
    assert raised.value.errors()[0]["loc"] == ("note",)
    assert Form(name="mila", note="two\nlines").note == "two\nlines"


def test_the_domain_models_every_face_builds_refuse_them() -> None:
    with pytest.raises(ValidationError, match="text"):
        Ticket(text="my payout\x00")
    with pytest.raises(ValidationError, match="id"):
        Ticket(id="TKT-1\n", text="my payout")
    with pytest.raises(ValidationError, match="note"):
        Decision(kind=DecisionKind.APPROVE, actor="agent-7", note="\x07")
    with pytest.raises(ValidationError, match="actor"):
        Decision(kind=DecisionKind.APPROVE, actor="agent\x00")
    with pytest.raises(ValidationError, match="name"):  # `copilot decide --actor` records the operator as this
        Actor.operator("agent\x007")
