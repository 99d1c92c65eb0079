"""The rules behind the sections, called directly: modifier derivation, dates of service, the
fee schedule release in force, payment arithmetic and the chart."""

from __future__ import annotations

import datetime
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from codes.knowledge import (
    NcciPair,
    date_of_service_parse,
    edition_start,
    facts_derive,
    modifiers_derive,
    payment_for_lines,
)
from codes.models import Code, RvuLine
from codes.svg import rvu_chart

TODAY = datetime.date(2026, 3, 15)


def line(**fields) -> RvuLine:
    """An unsaved fee schedule line: 64494's row of the January 2023 PFS file by default."""
    values = {
        "code": "64494",
        "modifier": "",
        "edition": "2023-JAN",
        "year": 2023,
        "status_code": "A",
        "work_rvu": Decimal("1.00"),
        "nonfacility_pe_rvu": Decimal("1.60"),
        "facility_pe_rvu": Decimal("0.41"),
        "mp_rvu": Decimal("0.10"),
        "nonfacility_total": Decimal("2.70"),
        "facility_total": Decimal("1.51"),
        "pctc_indicator": "0",
        "global_days": "ZZZ",
        "mult_proc": "0",
        "bilat_surg": "1",
        "asst_surg": "2",
        "co_surg": "0",
        "team_surg": "0",
        "conversion_factor": Decimal("33.8872"),
    }
    values.update(fields)
    return RvuLine(**values)


def pair(indicator: str, other: str = "64493") -> NcciPair:
    return NcciPair(
        column1=other,
        column2="64494",
        is_column1=False,
        other=other,
        other_url="",
        other_short="",
        effective_date=datetime.date(2012, 1, 1),
        deletion_date=None,
        indicator=indicator,
        rationale="",
        setting="practitioner",
    )


# Indicators that call for no modifier, so that each test sets only the one it is about.
NEUTRAL = {"bilat_surg": "9", "asst_surg": "9"}


def derived(**fields) -> set[str]:
    return set(modifiers_derive(rvu=line(**{**NEUTRAL, **fields}), ncci=[]))


# --- Modifiers from each indicator ---------------------------------------------------------------


def test_a_line_with_no_modifier_indicators_implies_no_modifiers():
    assert derived() == set()
    assert modifiers_derive(rvu=None, ncci=[]) == {}


def test_the_64494_row_implies_the_bilateral_and_assistant_modifiers():
    assert set(modifiers_derive(rvu=line(), ncci=[])) == {"50", "RT", "LT", "80", "81", "82", "AS"}


@pytest.mark.parametrize("value", ["1", "3"])
def test_bilateral_indicators_1_and_3_bring_50_rt_and_lt(value):
    assert derived(bilat_surg=value) == {"50", "RT", "LT"}


@pytest.mark.parametrize("value", ["0", "2", "9"])
def test_other_bilateral_indicators_bring_no_side_modifiers(value):
    assert derived(bilat_surg=value) == set()


def test_pctc_indicator_1_brings_26_and_tc():
    assert derived(pctc_indicator="1") == {"26", "TC"}


def test_pctc_indicator_6_brings_26_alone():
    assert derived(pctc_indicator="6") == {"26"}


@pytest.mark.parametrize("value", ["0", "2"])
def test_assistant_indicators_that_allow_payment_bring_80_81_82_and_as(value):
    reasons = modifiers_derive(rvu=line(**{**NEUTRAL, "asst_surg": value}), ncci=[])
    assert set(reasons) == {"80", "81", "82", "AS"}
    assert reasons["80"][0].label == f"Assistant-at-surgery indicator {value}"


def test_an_assistant_never_paid_brings_no_assistant_modifiers():
    assert derived(asst_surg="1") == set()


def test_co_and_team_surgery_indicators_bring_62_and_66():
    assert derived(co_surg="2", team_surg="1") == {"62", "66"}


def test_an_ncci_pair_with_modifier_indicator_1_brings_59_and_the_x_modifiers():
    reasons = modifiers_derive(rvu=None, ncci=[pair("1"), pair("0", other="77003")])
    assert set(reasons) == {"59", "XE", "XS", "XP", "XU"}
    assert "64493" in reasons["59"][0].text and "77003" not in reasons["59"][0].text


@pytest.mark.parametrize("indicator", ["0", "9"])
def test_an_ncci_pair_that_cannot_be_bypassed_brings_no_modifier(indicator):
    assert modifiers_derive(rvu=None, ncci=[pair(indicator)]) == {}


def test_a_modifier_implied_twice_carries_both_reasons():
    reasons = modifiers_derive(rvu=line(**{**NEUTRAL, "bilat_surg": "1"}), ncci=[pair("1")])
    assert len(reasons["50"]) == 1 and len(reasons["59"]) == 1
    assert {"50", "RT", "LT", "59", "XE", "XS", "XP", "XU"} == set(reasons)


# --- Facts --------------------------------------------------------------------------------------


def test_facts_name_the_global_period_and_bilateral_rule():
    code = Code(code="64493", is_addon=False)
    facts = " ".join(
        facts_derive(code=code, rvu=line(global_days="000", bilat_surg="1", mult_proc="2"))
    )
    assert "Global period 0 days" in facts
    assert "modifier 50" in facts and "150%" in facts
    assert "paid in full and the others at 50%" in facts
    assert "add-on" not in facts


def test_facts_call_a_zzz_code_an_add_on_even_without_the_flag():
    facts = facts_derive(code=Code(code="64494", is_addon=False), rvu=line())
    assert facts[0].startswith("64494 is an add-on code")


def test_facts_name_a_status_that_is_not_paid():
    facts = facts_derive(code=Code(code="36415"), rvu=line(status_code="X", global_days="XXX"))
    assert any("Medicare status X" in fact for fact in facts)


# --- Dates of service ---------------------------------------------------------------------------


def test_no_date_of_service_means_today():
    assert date_of_service_parse(raw=None, today=TODAY) == (TODAY, "")
    assert date_of_service_parse(raw="", today=TODAY) == (TODAY, "")


def test_a_valid_date_of_service_is_used():
    assert date_of_service_parse(raw="2019-02-28", today=TODAY) == (datetime.date(2019, 2, 28), "")


@pytest.mark.parametrize(
    "raw",
    [
        "2019-02-29",
        "2019-13-01",
        "2019-W05-1",
        "20190228",
        "2019-02-28T00:00",
        " 2019-02-28",
        "\x00",
        "x" * 10_000,
    ],
)
def test_an_invalid_date_of_service_falls_back_to_today_with_a_message(raw):
    day, message = date_of_service_parse(raw=raw, today=TODAY)
    assert day == TODAY
    assert "is not a date of service" in message
    assert len(message) < 120 and "\x00" not in message


# --- The fee schedule release and its payment -----------------------------------------------


def test_payment_is_total_rvus_times_the_conversion_factor_rounded_to_cents():
    # PFS January 2023, 64494: 2.70 × 33.8872 = 91.49544 → 91.50; 1.51 × 33.8872 = 51.1697 → 51.17
    row = line()
    assert row.nonfacility_payment == Decimal("91.50")
    assert row.facility_payment == Decimal("51.17")


def test_a_release_starts_on_the_first_day_of_its_month():
    assert edition_start(edition="2023-APR", year=2023) == datetime.date(2023, 4, 1)
    assert edition_start(edition="2023-JAN", year=2023) == datetime.date(2023, 1, 1)
    assert edition_start(edition="2024", year=2024) == datetime.date(2024, 1, 1)


def test_the_release_in_force_on_the_date_of_service_is_chosen():
    lines = [
        line(edition="2023-JAN", year=2023, work_rvu=Decimal("1.00")),
        line(edition="2023-APR", year=2023, work_rvu=Decimal("1.10")),
        line(edition="2024-JAN", year=2024, work_rvu=Decimal("1.20")),
    ]
    pick = payment_for_lines(lines=lines, dos=datetime.date(2023, 3, 31))
    assert pick.line.edition == "2023-JAN" and pick.in_force
    assert payment_for_lines(lines=lines, dos=datetime.date(2023, 4, 1)).line.edition == "2023-APR"
    assert payment_for_lines(lines=lines, dos=TODAY).line.edition == "2024-JAN"
    early = payment_for_lines(lines=lines, dos=datetime.date(2020, 1, 1))
    assert early.line.edition == "2023-JAN" and not early.in_force
    assert payment_for_lines(lines=[], dos=TODAY) is None


def test_component_lines_are_kept_beside_the_global_line():
    lines = [
        line(code="72148", modifier="TC"),
        line(code="72148"),
        line(code="72148", modifier="26"),
    ]
    payment = payment_for_lines(lines=lines, dos=TODAY)
    assert payment.line.modifier == ""
    assert [part.modifier for part in payment.components] == ["26", "TC"]


# --- The chart -------------------------------------------------------------------------------


def test_the_chart_is_well_formed_svg_with_a_title_and_description():
    svg = ElementTree.fromstring(str(rvu_chart(line=line())))
    namespace = "{http://www.w3.org/2000/svg}"
    assert svg.tag == f"{namespace}svg" and svg.get("role") == "img"
    title = svg.find(f"{namespace}title")
    desc = svg.find(f"{namespace}desc")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "64494" in title.text
    assert "total 2.70 RVUs, national payment $91.50" in desc.text
    assert "total 1.51 RVUs, national payment $51.17" in desc.text
    assert svg.get("style") is None
    assert all(node.get("style") is None for node in svg.iter())


def test_the_chart_draws_the_parts_to_scale():
    svg = ElementTree.fromstring(str(rvu_chart(line=line())))
    bars = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect") if r.find("*") is not None]
    widths = {r.find("*").text: float(r.get("width")) for r in bars}
    # Non-facility PE 1.60 is 16 times malpractice 0.10.
    ratio = (
        widths["Non-facility practice expense: 1.60 RVUs"]
        / widths["Non-facility malpractice: 0.10 RVUs"]
    )
    assert ratio == pytest.approx(16, rel=0.02)


def test_a_setting_not_paid_is_left_out_of_the_chart():
    svg = ElementTree.fromstring(
        str(rvu_chart(line=line(nonfacility_total=None, nonfacility_pe_rvu=None)))
    )
    text = ElementTree.tostring(svg, encoding="unicode")
    assert "Non-facility" not in text and "Facility" in text


def test_no_chart_for_a_line_paid_in_neither_setting():
    assert str(rvu_chart(line=line(nonfacility_total=None, facility_total=None))) == ""
