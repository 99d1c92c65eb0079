"""`cms-gpci` and `cms-locality` on excerpts of the CMS files (the first rows and a few more of
GPCI2025.csv and 25LOCCO1.csv, byte for byte)."""

from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from codes.models import Gpci, ImportRun, Locality
from tests.codes.importers.conftest import SAMPLES, write_variant

pytestmark = pytest.mark.django_db

GPCI_SAMPLE = SAMPLES / "GPCI2025_SAMPLE.csv"
LOCCO_SAMPLE = SAMPLES / "25LOCCO1_SAMPLE.csv"


def gpci(mac: str, number: str, year: int = 2025) -> Gpci:
    return Gpci.objects.select_related("locality").get(
        locality__mac=mac, locality__number=number, year=year
    )


def test_each_locality_row_becomes_a_locality_with_its_gpcis(import_codes):
    output = import_codes("cms-gpci", GPCI_SAMPLE)

    assert Locality.objects.count() == 5
    manhattan = gpci("13202", "01")
    assert (manhattan.work, manhattan.pe, manhattan.mp) == (
        Decimal("1.065"),
        Decimal("1.166"),
        Decimal("1.656"),
    )
    assert (manhattan.locality.state, manhattan.locality.name) == ("NY", "MANHATTAN")
    assert manhattan.edition == "CY2025 Addendum E"
    assert "5 added" in output and "warning" not in output


def test_the_leading_zeros_a_spreadsheet_dropped_are_restored(import_codes):
    import_codes("cms-gpci", GPCI_SAMPLE)

    keys = set(Locality.objects.values_list("mac", "number"))
    assert {("06302", "00"), ("02102", "01"), ("10112", "00"), ("03602", "21")} <= keys


def test_footnote_stars_leave_the_name_and_the_footnote_goes_with_the_gpcis(import_codes):
    import_codes("cms-gpci", GPCI_SAMPLE)

    alaska, wyoming = gpci("02102", "01"), gpci("03602", "21")
    assert alaska.locality.name == "ALASKA"
    assert alaska.notes == ["Work GPCI reflects a 1.5 floor in Alaska established by the MIPPA."]
    assert wyoming.notes == [
        "PE GPCI reflects a 1.0 floor for frontier states established by the ACA."
    ]
    assert gpci("13202", "01").notes == []


def test_importing_the_same_file_again_changes_nothing(import_codes):
    import_codes("cms-gpci", GPCI_SAMPLE)
    output = import_codes("cms-gpci", GPCI_SAMPLE)

    assert "GPCIs: 0 added, 0 updated, 0 deleted, 5 unchanged" in output
    assert ImportRun.objects.filter(format="cms-gpci").count() == 2


def test_a_dry_run_writes_nothing(import_codes):
    output = import_codes("cms-gpci", GPCI_SAMPLE, dry_run=True)

    assert "5 added" in output
    assert not Locality.objects.exists() and not Gpci.objects.exists()


def test_a_bad_gpci_names_its_line_and_writes_nothing(import_codes, tmp_path):
    broken = write_variant(
        tmp_path, "GPCI2025_SAMPLE.csv", lambda data: data.replace(b"1.065", b"1.o65")
    )

    with pytest.raises(CommandError, match=r"line 6, field work GPCI"):
        import_codes("cms-gpci", broken)
    assert not Locality.objects.exists()


def test_a_file_without_the_heading_is_refused(import_codes, tmp_path):
    other = tmp_path / "GPCI2025.csv"
    other.write_text("code,value\n99214,1\n", encoding="utf-8")

    with pytest.raises(CommandError, match="not an Addendum E GPCI file"):
        import_codes("cms-gpci", other)


def test_the_counties_file_fills_in_each_locality(import_codes):
    import_codes("cms-gpci", GPCI_SAMPLE)
    output = import_codes("cms-locality", LOCCO_SAMPLE)

    manhattan = Locality.objects.get(mac="13202", number="01")
    assert (manhattan.state_name, manhattan.area, manhattan.counties) == (
        "New York",
        "MANHATTAN",
        "NEW YORK",
    )
    assert "warning" not in output


def test_a_state_written_once_carries_to_the_rows_below_it(import_codes):
    import_codes("cms-locality", LOCCO_SAMPLE)

    marin = Locality.objects.get(mac="01112", number="52")
    assert (marin.state_name, marin.counties) == ("California", "MARIN")
    queens = Locality.objects.get(mac="13292", number="04")
    assert queens.state_name == "New York"


def test_a_locality_listed_twice_is_kept_once(import_codes):
    import_codes("cms-locality", LOCCO_SAMPLE)

    rest = Locality.objects.get(mac="05302", number="99")
    assert (rest.area, rest.counties) == ("REST OF STATE", "ALL OTHER COUNTIES")


def test_the_picker_search_finds_a_locality_by_county(import_codes):
    import_codes("cms-gpci", GPCI_SAMPLE)
    import_codes("cms-locality", LOCCO_SAMPLE)

    assert set(Locality.objects.matching("new york").values_list("name", flat=True)) == {
        "MANHATTAN",
        "NYC SUBURBS/LONG ISLAND",
        "POUGHKPSIE/N NYC SUBURBS",
        "QUEENS",
    }
    assert [loc.key for loc in Locality.objects.matching("westchester")] == ["13202-02"]
