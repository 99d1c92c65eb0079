"""Payment by locality from the real CMS files in ../shared/data: the 2025 PFS beside the
2023 one, both Addendum E GPCI years and the counties file, then the hand-worked figures of
the data README worked by codes/payment.py. Skipped, saying why, without the folder."""

import datetime
from decimal import Decimal

import pytest

from codes.models import Gpci, Locality, RvuLine
from codes.payment import PriceRequest, locality_find, price_line, price_lines

pytestmark = [pytest.mark.django_db, pytest.mark.realdata]

DAY_2025 = datetime.date(2025, 6, 15)


@pytest.fixture
def payment_files(import_codes, real_data) -> str:
    outputs = [
        import_codes("cms-pfs-rvu", real_data / "pfs/PPRRVU23_JAN.csv"),
        import_codes("cms-pfs-rvu", real_data / "pfs/PPRRVU25_JAN1.csv"),
        import_codes("cms-gpci", real_data / "gpci/GPCI2025.csv"),
        import_codes("cms-gpci", real_data / "gpci/GPCI2026.csv"),
        import_codes("cms-locality", real_data / "gpci/25LOCCO1.csv"),
    ]
    return "\n".join(outputs)


def test_the_2025_pfs_imports_beside_2023_with_no_flags_and_no_warnings(payment_files):
    assert "warning" not in payment_files
    assert RvuLine.objects.filter(edition="2025-JAN").count() == 18865
    assert RvuLine.objects.filter(edition="2023-JAN").count() == 18010
    visit = RvuLine.objects.get(code="99214", modifier="", edition="2025-JAN")
    assert (visit.work_rvu, visit.nonfacility_pe_rvu, visit.facility_pe_rvu, visit.mp_rvu) == (
        Decimal("1.92"),
        Decimal("1.80"),
        Decimal("0.83"),
        Decimal("0.15"),
    )
    assert visit.conversion_factor == Decimal("32.3465")
    # The spreadsheet's 0 and 90 are the global periods 000 and 090 again.
    assert RvuLine.objects.get(code="64493", edition="2025-JAN").global_days == "000"
    assert RvuLine.objects.get(code="27447", edition="2025-JAN").global_days == "090"
    # and its 100 is the anesthesia code 00100 again
    assert RvuLine.objects.filter(code="00100", edition="2025-JAN").exists()


def test_all_109_localities_have_both_gpci_years_and_their_counties(payment_files):
    assert Locality.objects.count() == 109
    assert Gpci.objects.filter(year=2025).count() == 109
    assert Gpci.objects.filter(year=2026).count() == 109
    assert not Locality.objects.filter(counties="").exists()
    assert not Locality.objects.filter(state="").exists()
    wisconsin = Locality.objects.get(mac="06302", number="00")
    assert wisconsin.name == "WISCONSIN"
    manhattan = Gpci.objects.get(locality__mac="13202", locality__number="01", year=2025)
    assert (manhattan.work, manhattan.pe, manhattan.mp) == (
        Decimal("1.065"),
        Decimal("1.166"),
        Decimal("1.656"),
    )


def test_99214_in_manhattan_in_2025_pays_the_hand_worked_figures(payment_files):
    manhattan = locality_find(key="13202-01")

    local = price_line(PriceRequest("99214"), day=DAY_2025, locality=manhattan)
    national = price_line(PriceRequest("99214"), day=DAY_2025, locality=None)

    assert local.nonfacility.participating == Decimal("142.07")
    assert local.facility.participating == Decimal("105.48")
    assert national.nonfacility.participating == Decimal("125.18")
    assert (local.edition, local.gpci_year) == ("2025-JAN", 2025)


def test_the_2023_release_prices_a_2023_date_of_service(payment_files):
    price = price_line(PriceRequest("64494"), day=datetime.date(2023, 5, 1), locality=None)

    assert price.nonfacility.participating == Decimal("91.50")  # 2.70 × 33.8872


def test_modifier_rules_on_the_real_2025_rows(payment_files):
    knee, co_surgeon, assistant, pa = price_lines(
        [
            PriceRequest("27447", ("50",)),
            PriceRequest("27447", ("62",)),
            PriceRequest("27447", ("80",)),
            PriceRequest("27447", ("AS",)),
        ],
        day=DAY_2025,
        locality=None,
        same_claim=False,
    )
    # 27447: facility only; 38.88 × 32.3465 = 1257.63
    assert knee.facility.participating == Decimal("1886.45")  # × 1.5 = 1886.445
    assert co_surgeon.facility.participating == Decimal("786.02")  # × 0.625
    assert assistant.facility.participating == Decimal("201.22")  # × 0.16 = 201.2208
    assert pa.facility.participating == Decimal("171.04")  # × 0.136 = 171.0377
    office = price_line(PriceRequest("99214", ("62",)), day=DAY_2025, locality=None)
    assert "co-surgery indicator 0" in office.refusal
