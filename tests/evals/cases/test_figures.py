"""A figure counts as stated only as a whole value, never as a piece of another number or an id."""

from __future__ import annotations

import pytest

from evals.cases.figures import figure_pattern

pytestmark = pytest.mark.unit


def test_a_figure_is_found_as_a_whole_value() -> None:
    assert figure_pattern("5").search("Withdrawals arrive within 5 business days.")
    assert figure_pattern("10,000").search("You need 10,000 followers.")
    assert figure_pattern("USD 10").search("the minimum is usd 10")
    assert figure_pattern("13-17").search("It works for teens aged 13-17, and the parent needs an account.")


def test_a_figure_inside_another_number_or_an_id_is_not_stated() -> None:
    assert not figure_pattern("5").search("after 15 days")
    assert not figure_pattern("5").search("reference TKT-a5b09")
    assert not figure_pattern("10").search("10,000 followers")
    assert not figure_pattern("5").search("version 5.2")
