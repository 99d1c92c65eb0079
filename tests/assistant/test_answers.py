from __future__ import annotations

import datetime

import pytest

from assistant.answers import answer_build, question_read
from codes.edits import ptp_edits_with

DAY = datetime.date(2026, 6, 1)


@pytest.mark.django_db
def test_ptp_edits_with_finds_a_code_in_either_column_and_keeps_to_the_limit(demo) -> None:
    # The demo's edits are the NCCI v30.1 rows of its codes (fixtures/ncci.json): 64493 is
    # column 1 of 14 active edits and column 2 of 7.
    edits = ptp_edits_with("64493", day=DAY, limit=50)
    assert {"77003", "20610", "96372"} <= {e.column2 for e in edits if e.column1 == "64493"}
    assert {"64633", "64635"} <= {e.column1 for e in edits if e.column2 == "64493"}
    assert len(edits) == 21
    first = ptp_edits_with("64493", day=DAY, limit=5)
    assert len(first) == 5 and all(edit.column1 == "64493" for edit in first)
    assert all("99211" in (e.column1, e.column2) for e in ptp_edits_with("99211", day=DAY))
    bypassable = ptp_edits_with("64493", day=DAY, indicator="1", limit=2)
    assert len(bypassable) == 2 and {e.modifier_indicator for e in bypassable} == {"1"}


def test_a_question_names_its_date_of_service() -> None:
    today = datetime.date(2026, 6, 1)
    assert question_read(text="is 64494 covered on 3/15/2024", today=today).dos == datetime.date(
        2024, 3, 15
    )
    assert question_read(text="payment for 99213 in 2023", today=today).dos == datetime.date(
        2023, 1, 1
    )
    assert question_read(text="what is 99213", today=today).dos == today


def test_the_kind_of_a_question_follows_its_words() -> None:
    today = datetime.date(2026, 6, 1)
    kinds = {
        "99213 vs 99214": "compare",
        "can I bill 64493 with 77003": "ncci",
        "how many units of J1100": "mue",
        "what is modifier 59": "modifiers",
        "which diagnoses support 64494": "crosswalk",
        "how much does Medicare pay for 99214": "payment",
        "is 64494 covered by Medicare": "coverage",
        "when was 64494 added": "history",
        "how do I count facet levels": "guidelines",
        "M54.50?": "code",
    }
    for text, kind in kinds.items():
        assert question_read(text=text, today=today).kind == kind, text


@pytest.mark.django_db
def test_a_date_named_in_the_question_reaches_the_links(demo) -> None:
    answer = answer_build(text="can I bill 64494 with 77003 on 3/15/2024", today=DAY, sections=True)
    assert answer.dos == "2024-03-15"
    assert answer.facts[0].url == "/cpt/64494/?dos=2024-03-15#ncci"
