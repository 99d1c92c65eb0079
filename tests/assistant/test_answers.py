from __future__ import annotations

import datetime

import pytest

from assistant.answers import answer_build, question_read
from codes.edits import ptp_edits_with

DAY = datetime.date(2026, 6, 1)


@pytest.mark.django_db
def test_ptp_edits_with_finds_a_code_in_either_column_and_keeps_to_the_limit(demo) -> None:
    edits = ptp_edits_with("64493", day=DAY, limit=50)
    # The demo's edits are cut from the real file: 64493 stands in either column.
    assert {"77003", "96372"} <= {edit.column2 for edit in edits if edit.column1 == "64493"}
    assert all("64493" in (edit.column1, edit.column2) for edit in edits)
    # 99211 is column 2 of its edits: found there too.
    visit = {(e.column1, e.column2) for e in ptp_edits_with("99211", day=DAY, limit=50)}
    assert ("96372", "99211") in visit and ("20610", "99211") in visit
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


# --- Payment by locality ---------------------------------------------------------------------
# The demo's 99214 line is the PFS 2025 row (work 1.92, PE 1.80 / facility 0.83, MP 0.15, CF
# 32.3465) and Manhattan's 2025 GPCIs are 1.065, 1.166, 1.656 (CY2025 Addendum E).


@pytest.mark.django_db
def test_a_payment_question_naming_manhattan_is_priced_there(demo) -> None:
    answer = answer_build(
        text="How much does Medicare pay for 99214 in Manhattan on 6/15/2025?",
        today=DAY,
        sections=True,
    )
    assert answer.heading == "Medicare payment for 99214 in NY — MANHATTAN"
    [fact] = answer.facts
    # Non-facility (1.92 × 1.065 + 1.80 × 1.166 + 0.15 × 1.656) × 32.3465 = 142.0658 → 142.07;
    # limiting charge 142.07 × 0.95 × 1.15 = 155.2115 → 155.21. Facility (… 0.83 × 1.166 …)
    # = 105.4811 → 105.48; limiting 105.48 × 0.95 × 1.15 = 115.2369 → 115.24.
    assert fact.text == (
        "99214 Medicare payment in NY — MANHATTAN: non-facility $142.07 (limiting charge "
        "$155.21); facility $105.48 (limiting charge $115.24), participating amounts with the "
        "2025 GPCIs and conversion factor $32.3465."
    )
    assert fact.edition == "PFS 2025-JAN release; GPCIs CY2025 Addendum E"
    assert fact.url == "/cpt/99214/?dos=2025-06-15&locality=13202-01#payment"


@pytest.mark.django_db
def test_the_cited_payment_section_shows_the_answers_figures(demo, member_client) -> None:
    answer = answer_build(
        text="payment for 99214 in Manhattan on 6/15/2025", today=DAY, sections=True
    )
    page = member_client.get(answer.facts[0].url.split("#")[0]).content.decode()
    for figure in ("$142.07", "$155.21", "$105.48", "$115.24", "CY2025 Addendum E"):
        assert figure in page


@pytest.mark.django_db
def test_a_state_with_several_localities_gets_national_amounts_and_their_names(demo) -> None:
    answer = answer_build(text="payment for 99213 in NY", today=DAY, sections=True)
    assert answer.facts[0].text.startswith("99213 national Medicare payment")
    assert answer.facts[0].url == "/cpt/99213/?dos=2026-06-01&locality=national#payment"
    [note] = answer.notes
    assert note.startswith("“NY” matches 5 Medicare localities (NY — MANHATTAN, ")
    assert "SANTA CLARA" not in note  # CNTY holds "ny", but NY is a state


@pytest.mark.django_db
def test_a_state_with_one_locality_and_a_county_name_find_it(demo) -> None:
    ohio = answer_build(text="what does 99213 pay in Ohio", today=DAY, sections=True)
    assert ohio.facts[0].url.endswith("locality=15202-00#payment")
    cook = answer_build(text="what does 64493 pay in Cook county", today=DAY, sections=True)
    assert cook.heading.endswith("in IL — CHICAGO")  # Chicago, not Suburban Chicago


@pytest.mark.django_db
def test_a_place_that_is_no_locality_says_so(demo) -> None:
    answer = answer_build(text="payment for 99213 in Springfield", today=DAY, sections=True)
    assert answer.facts[0].text.startswith("99213 national Medicare payment")
    assert answer.notes == [
        "No Medicare locality on file matches “Springfield”; these are national amounts. "
        "Name a state, a county or a locality such as Manhattan."
    ]


@pytest.mark.django_db
def test_a_guest_asking_about_a_locality_gets_no_payment_facts(demo) -> None:
    answer = answer_build(text="how much does 99214 pay in Manhattan", today=DAY, sections=False)
    assert answer.invite and not answer.notes
    assert all("$" not in fact.text for fact in answer.facts)


@pytest.mark.django_db
def test_a_locality_payment_answer_takes_four_queries(demo, django_assert_num_queries) -> None:
    # The code, the locality search, the fee schedule lines, the locality's GPCIs.
    with django_assert_num_queries(4):
        answer_build(text="how much does 99214 pay in Manhattan", today=DAY, sections=True)
