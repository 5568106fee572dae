"""How the console marks policy figures in a reply, links citations and reads a published SOP's text."""

from __future__ import annotations

import pytest

from api.console.presenting import citation_href, diff_lines, marked_reply, published_page
from copilot.domain.approval import edit_diff
from knowledge_base.library import Figure

pytestmark = pytest.mark.unit

DAYS = Figure(key="payout.processing_business_days", value="5", doc_id="POL-REWARDS")
MINIMUM = Figure(key="payout.min_withdrawal_usd", value="USD 10", doc_id="POL-REWARDS")
FINALISED = Figure(key="payout.earnings_finalised_day", value="10", doc_id="POL-REWARDS")
REVIEW = Figure(key="rewards.application_review_days", value="10", doc_id="POL-OTHER")


def test_each_stated_figure_is_marked_with_its_policy_and_name() -> None:
    marked = marked_reply("It arrives within 5 business days once you have USD 10.", [DAYS, MINIMUM])

    assert str(marked) == (
        'It arrives within <mark class="figure" title="POL-REWARDS: payout.processing_business_days">5</mark> '
        'business days once you have <mark class="figure" title="POL-REWARDS: payout.min_withdrawal_usd">USD 10</mark>.'
    )


def test_a_figure_is_not_marked_inside_another_number() -> None:
    marked = str(marked_reply("Your $150 of 10,000 views, 5.5 hours, ref 105: 5 days.", [DAYS, FINALISED]))

    assert marked.count("<mark") == 1 and '">5</mark> days' in marked


def test_a_value_two_figures_share_names_both() -> None:
    assert 'title="POL-REWARDS: payout.earnings_finalised_day; POL-OTHER: rewards.application_review_days"' in str(
        marked_reply("on day 10", [FINALISED, REVIEW])
    )


def test_the_reply_is_escaped_around_the_marks() -> None:
    marked = str(marked_reply('<script>alert("5")</script> within 5 days', [DAYS]))

    assert "<script>" not in marked and "&lt;script&gt;" in marked
    assert marked.endswith(
        'within <mark class="figure" title="POL-REWARDS: payout.processing_business_days">5</mark> days'
    )


def test_a_reply_without_figures_is_only_escaped() -> None:
    assert str(marked_reply("a < b", [])) == "a &lt; b"


def test_a_citation_links_the_version_and_the_section_anchor() -> None:
    assert citation_href("SOP-CR-03", "1.0.2", "Reply templates: in_transit [en]") == (
        "/console/sop/SOP-CR-03/versions/1.0.2#reply-templates-in-transit-en"
    )


def test_an_edit_diff_is_classed_line_by_line() -> None:
    kinds = [kind for kind, _ in diff_lines(edit_diff("Hi\nold line", "Hi\nnew line"))]

    assert kinds == ["meta", "meta", "hunk", "", "del", "add"]


PUBLISHED = """---
id: SOP-X-01
title: A test SOP
version: 0.1.0
effective_date: 2026-01-01
---

## Steps

1. Check the <account>.

## Reply templates

### in_transit [en]
Use when: it is on its way.

Hi {{creator_handle|there}}, it is on its way.
"""


def test_a_published_text_is_read_into_anchored_sections_and_templates() -> None:
    page = published_page("SOP-X-01", "0.1.0", PUBLISHED)

    assert (page.title, page.version, page.effective_date) == ("A test SOP", "0.1.0", "2026-01-01")
    assert [s.anchor for s in page.sections] == ["steps", "reply-templates"]
    [template] = page.sections[1].templates
    assert template.anchor == "reply-templates-in-transit-en"
    assert template.template.use_when == "it is on its way."
    assert page.anchors == {"steps", "reply-templates", "reply-templates-in-transit-en"}
