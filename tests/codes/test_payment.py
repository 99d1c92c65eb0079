"""codes/payment.py called directly: locality payment, the release in force, modifier
adjustments and their refusals. The RVUs and GPCIs are the published rows (tests/factories.py
names the files); every expected figure is worked by hand in its comment."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from codes.payment import PriceRequest, price_line, price_lines
from tests.factories import make_locality, make_rvu_line

pytestmark = pytest.mark.django_db

DAY_2025 = datetime.date(2025, 6, 15)


@pytest.fixture
def manhattan():
    return make_locality("13202", "01")


def test_99214_in_manhattan_pays_the_hand_worked_amounts(manhattan):
    make_rvu_line("99214")

    price = price_line(PriceRequest("99214"), day=DAY_2025, locality=manhattan)

    # (1.92 × 1.065 + 1.80 × 1.166 + 0.15 × 1.656) × 32.3465 = 4.3920 × 32.3465 = 142.0658
    assert price.nonfacility.participating == Decimal("142.07")
    # (1.92 × 1.065 + 0.83 × 1.166 + 0.15 × 1.656) × 32.3465 = 3.26098 × 32.3465 = 105.4811
    assert price.facility.participating == Decimal("105.48")
    assert (price.edition, price.gpci_year, price.conversion_factor) == (
        "2025-JAN",
        2025,
        Decimal("32.3465"),
    )


def test_national_amounts_use_gpcis_of_one():
    make_rvu_line("99214")

    price = price_line(PriceRequest("99214"), day=DAY_2025, locality=None)

    assert price.nonfacility.participating == Decimal("125.18")  # 3.87 × 32.3465 = 125.1810
    assert price.facility.participating == Decimal("93.80")  # 2.90 × 32.3465 = 93.8049
    assert price.gpci is None


def test_non_participating_is_95_percent_and_the_limiting_charge_115_percent_of_that(manhattan):
    make_rvu_line("99214")

    amounts = price_line(PriceRequest("99214"), day=DAY_2025, locality=manhattan).nonfacility

    assert amounts.non_participating == Decimal("134.97")  # 142.07 × 0.95 = 134.9665
    assert amounts.limiting_charge == Decimal("155.21")  # 134.9665 × 1.15 = 155.2115


def test_the_gpci_year_follows_the_date_of_service(manhattan):
    make_rvu_line("99214")

    price = price_line(PriceRequest("99214"), day=datetime.date(2026, 2, 1), locality=manhattan)

    # 2026 GPCIs with the newest PFS on file (2025): (1.92 × 1.064 + 1.80 × 1.162 +
    # 0.15 × 1.586) × 32.3465 = 4.37238 × 32.3465 = 141.4310
    assert price.gpci_year == 2026
    assert price.nonfacility.participating == Decimal("141.43")


def test_the_pfs_release_follows_the_date_of_service():
    make_rvu_line("99214")
    make_rvu_line(
        "99214",
        edition="2023-JAN",
        year=2023,
        nonfacility_pe_rvu=Decimal("1.73"),
        facility_pe_rvu=Decimal("0.82"),
        mp_rvu=Decimal("0.14"),
        conversion_factor=Decimal("33.8872"),
    )

    old = price_line(PriceRequest("99214"), day=datetime.date(2023, 5, 1), locality=None)
    new = price_line(PriceRequest("99214"), day=DAY_2025, locality=None)

    assert old.nonfacility.participating == Decimal("128.43")  # 3.79 × 33.8872 = 128.4325
    assert new.nonfacility.participating == Decimal("125.18")


def test_a_date_before_every_gpci_year_uses_the_oldest_and_says_so(manhattan):
    make_rvu_line("99214")

    price = price_line(PriceRequest("99214"), day=datetime.date(2024, 3, 1), locality=manhattan)

    assert (price.gpci_year, price.gpci_in_force) == (2025, False)
    assert price.release_in_force is False


def test_26_and_tc_use_their_own_lines():
    for modifier in ("", "26", "TC"):
        make_rvu_line("72148", modifier)

    professional, technical = price_lines(
        [PriceRequest("72148", ("26",)), PriceRequest("72148", ("TC",))],
        day=DAY_2025,
        locality=None,
    )

    assert professional.nonfacility.participating == Decimal("67.60")  # 2.09 × 32.3465
    assert technical.nonfacility.participating == Decimal("120.65")  # 3.73 × 32.3465
    assert technical.facility is None  # the file's facility NA indicator


def test_26_is_refused_where_the_fee_schedule_has_no_such_line():
    make_rvu_line("99214")

    price = price_line(PriceRequest("99214", ("26",)), day=DAY_2025, locality=None)

    assert not price.priced
    assert "no 99214-26 line" in price.refusal
    assert "PC/TC indicator 0" in price.refusal


def test_50_pays_150_percent_under_bilateral_indicator_1():
    make_rvu_line("20610")

    price = price_line(PriceRequest("20610", ("50",)), day=DAY_2025, locality=None)

    assert price.nonfacility.participating == Decimal("95.10")  # 63.40 × 1.5
    assert [a.modifier for a in price.adjustments] == ["50"]


def test_50_is_refused_under_bilateral_indicator_0():
    make_rvu_line("99214")

    price = price_line(PriceRequest("99214", ("50",)), day=DAY_2025, locality=None)

    assert not price.priced
    assert price.refusal.startswith("Modifier 50 is not priced for 99214: bilateral indicator 0")


def test_the_second_procedure_of_a_day_pays_50_percent_ranked_by_fee():
    make_rvu_line("20610")
    make_rvu_line("64493")

    joint, facet = price_lines(
        [PriceRequest("20610", ("51",)), PriceRequest("64493")], day=DAY_2025, locality=None
    )

    assert facet.nonfacility.participating == Decimal("172.08")  # 5.32 × 32.3465, in full
    assert joint.nonfacility.participating == Decimal("31.70")  # 63.40 × 0.5
    assert "procedure 2 of 2" in joint.adjustments[0].reason


def test_the_higher_fee_is_paid_in_full_even_when_it_carries_51():
    make_rvu_line("20610")
    make_rvu_line("64493")

    facet, joint = price_lines(
        [PriceRequest("64493", ("51",)), PriceRequest("20610")], day=DAY_2025, locality=None
    )

    assert facet.nonfacility.participating == Decimal("172.08")
    assert joint.nonfacility.participating == Decimal("31.70")


def test_51_alone_marks_a_second_procedure():
    make_rvu_line("64493")

    price = price_line(PriceRequest("64493", ("51",)), day=DAY_2025, locality=None)

    assert price.nonfacility.participating == Decimal("86.04")  # 172.08 × 0.5


def test_51_is_refused_on_an_add_on_code():
    make_rvu_line("64494")

    price = price_line(PriceRequest("64494", ("51",)), day=DAY_2025, locality=None)

    assert price.refusal.startswith("Modifier 51 is not priced for 64494: multiple-procedure")


def test_62_pays_each_co_surgeon_62_and_a_half_percent():
    make_rvu_line("27447")

    price = price_line(PriceRequest("27447", ("62",)), day=DAY_2025, locality=None)

    # facility only (the file's non-facility NA): 38.88 × 32.3465 = 1257.63; × 0.625 = 786.02
    assert price.nonfacility is None
    assert price.facility.participating == Decimal("786.02")


def test_62_is_refused_under_co_surgery_indicator_0():
    make_rvu_line("64493")

    price = price_line(PriceRequest("64493", ("62",)), day=DAY_2025, locality=None)

    assert price.refusal.startswith("Modifier 62 is not priced for 64493: co-surgery indicator 0")


@pytest.mark.parametrize("modifier", ["80", "82"])
def test_an_assistant_at_surgery_is_paid_16_percent(modifier):
    make_rvu_line("64493")

    price = price_line(PriceRequest("64493", (modifier,)), day=DAY_2025, locality=None)

    assert price.nonfacility.participating == Decimal("27.53")  # 172.08 × 0.16 = 27.5328


def test_as_alone_pays_13_6_percent():
    make_rvu_line("64493")

    price = price_line(PriceRequest("64493", ("AS",)), day=DAY_2025, locality=None)

    assert price.nonfacility.participating == Decimal("23.40")  # 172.08 × 0.136 = 23.4029


def test_an_assistant_is_refused_under_assistant_indicator_1():
    make_rvu_line("20610")

    price = price_line(PriceRequest("20610", ("80",)), day=DAY_2025, locality=None)

    assert price.refusal.startswith(
        "Modifier 80 is not priced for 20610: assistant-at-surgery indicator 1"
    )


def test_a_carrier_priced_code_is_not_given_an_amount():
    make_rvu_line("0213T")

    price = price_line(PriceRequest("0213T"), day=DAY_2025, locality=None)

    assert not price.priced
    assert price.refusal.startswith("Status C")


def test_a_code_without_fee_schedule_lines_says_so():
    price = price_line(PriceRequest("99999"), day=DAY_2025, locality=None)

    assert "no line in the Medicare Physician Fee Schedule" in price.refusal


def test_units_multiply_the_line(manhattan):
    make_rvu_line("99214")

    price = price_line(PriceRequest("99214", units=2), day=DAY_2025, locality=manhattan)

    assert price.nonfacility.participating == Decimal("284.14")


def test_pricing_many_lines_takes_two_queries(manhattan, django_assert_num_queries):
    for code in ("99214", "20610", "64493", "64494"):
        make_rvu_line(code)
    requests = [PriceRequest(code) for code in ("99214", "20610", "64493", "64494")] * 5

    with django_assert_num_queries(2):  # the fee schedule lines, the locality's GPCIs
        prices = price_lines(requests, day=DAY_2025, locality=manhattan)

    assert len(prices) == 20
