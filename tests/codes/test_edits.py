"""codes.edits: what the published edits say about several codes at once, one query each."""

from __future__ import annotations

import datetime

import pytest

from codes import edits
from codes.models import MueValue, NcciEdit

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 6, 3)


def edit(column1: str, column2: str, **fields) -> NcciEdit:
    # Values as in NCCI PTP v30.1 (ptp-practitioner-2024q2-v301r0.tsv.gz), row
    # `64493 77003 · · * 1 CPT Manual or CMS manual coding instruction`, dated by edition.
    values = {
        "effective_date": datetime.date(2024, 4, 1),
        "modifier_indicator": "1",
        "rationale": "CPT Manual or CMS manual coding instruction",
        **fields,
    }
    return NcciEdit.objects.create(column1=column1, column2=column2, **values)


def test_all_pairs_among_the_codes_come_in_one_query_in_both_orders(django_assert_num_queries):
    edit("64493", "77003")
    edit("20610", "99213")
    edit("64493", "99999")  # invented: a pair with a code not asked about
    with django_assert_num_queries(1):
        found = edits.ptp_edits_among(["77003", "99213", "64493", "20610"], day=DAY)
    assert sorted((e.column1, e.column2) for e in found) == [
        ("20610", "99213"),
        ("64493", "77003"),
    ]
    assert all(e.edition_label.startswith("NCCI PTP") for e in found)


def test_edits_deleted_or_not_yet_effective_on_the_day_are_left_out():
    edit("64493", "77003", deletion_date=datetime.date(2024, 5, 31))
    edit("20610", "99213", effective_date=datetime.date(2024, 7, 1))
    assert edits.ptp_edits_among(["64493", "77003", "20610", "99213"], day=DAY) == []
    assert len(edits.ptp_edits_among(["20610", "99213"], day=datetime.date(2024, 7, 1))) == 1


def test_hospital_edits_are_kept_apart_from_practitioner_edits():
    edit("64493", "77003", setting="hospital")
    assert edits.ptp_edits_among(["64493", "77003"], day=DAY) == []
    assert len(edits.ptp_edits_among(["64493", "77003"], day=DAY, setting="hospital")) == 1


def test_bypass_modifiers_are_the_ncci_associated_ones():
    assert edits.bypass_modifiers(["50", "XS", "26", "59", "F5", "RT", "25"]) == [
        "XS",
        "59",
        "F5",
        "RT",
        "25",
    ]
    assert edits.bypass_modifiers(["50", "26", "TC", "51"]) == []


def test_mue_limits_give_each_code_its_governing_row_in_one_query(django_assert_num_queries):
    # MUE practitioner 2024 Q2 (mue-practitioner-2024q2.csv): 64494,1,2 …,CMS Policy
    MueValue.objects.create(
        code="64494",
        value=1,
        adjudication=2,
        rationale="CMS Policy",
        effective_date=datetime.date(2024, 4, 1),
    )
    # An invented earlier row, only to test which row governs on which date.
    MueValue.objects.create(
        code="64494",
        value=2,
        adjudication=2,
        rationale="CMS Policy",
        effective_date=datetime.date(2023, 1, 1),
        deletion_date=datetime.date(2024, 3, 31),
    )
    with django_assert_num_queries(1):
        limits = edits.mue_limits(["64494", "64493"], day=DAY)
    assert list(limits) == ["64494"]
    assert (limits["64494"].value, limits["64494"].adjudication) == (1, 2)
    assert edits.mue_limits(["64494"], day=datetime.date(2023, 6, 1))["64494"].value == 2


def test_addon_primaries_come_from_the_codes_links(facet_family, django_assert_num_queries):
    with django_assert_num_queries(1):
        primaries = edits.addon_primaries(["64494", "64495", "64493"])
    assert primaries == {
        "64494": frozenset({"64493"}),
        "64495": frozenset({"64493", "64494"}),
    }


def test_ptp_edits_and_mues_come_together_in_one_query(django_assert_num_queries):
    edit("64493", "77003")
    MueValue.objects.create(
        code="64494",
        value=1,
        adjudication=2,
        rationale="CMS Policy",
        effective_date=datetime.date(2024, 4, 1),
    )
    with django_assert_num_queries(1):
        found, limits = edits.edits_among_dates(["64493", "77003", "64494"], days=[DAY])
    assert [(e.column1, e.column2, e.modifier_indicator) for e in found] == [
        ("64493", "77003", "1")
    ]
    assert [(m.code, m.value, m.adjudication, m.rationale) for m in limits] == [
        ("64494", 1, 2, "CMS Policy")
    ]


def test_procedure_codes_carry_their_primaries(facet_family, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = edits.procedure_codes(["64494", "64493", "M5450"])
    assert sorted(found) == ["64493", "64494"]
    assert found["64494"].primary_keys == ["64493"] and found["64493"].primary_keys == []


def test_edits_for_several_dates_come_in_one_query_each_saying_when_it_applies(
    django_assert_num_queries,
):
    edit("64493", "77003", deletion_date=datetime.date(2024, 5, 31))
    later = datetime.date(2024, 7, 1)
    with django_assert_num_queries(1):
        found = edits.ptp_edits_among_dates(["64493", "77003"], days=[DAY, later, DAY])
    assert found == []
    early = datetime.date(2024, 5, 1)
    (only,) = edits.ptp_edits_among_dates(["64493", "77003"], days=[early, later])
    assert only.in_force_on(early) and not only.in_force_on(later)
