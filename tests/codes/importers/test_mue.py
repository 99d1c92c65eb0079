import datetime

import pytest
from django.core.management.base import CommandError

from codes.models import MueValue
from tests.codes.importers.conftest import SAMPLES, write_variant

pytestmark = pytest.mark.django_db

JANUARY = SAMPLES / "MCR_MUE_PractitionerServices_Eff_01-01-2025.csv"
APRIL = SAMPLES / "MCR_MUE_PractitionerServices_Eff_04-01-2025.csv"


def test_rows_after_the_copyright_cell_and_header_become_mue_values(import_codes):
    output = import_codes("cms-mue", JANUARY)

    assert MueValue.objects.count() == 6
    drug = MueValue.objects.get(code="J1100")
    assert (drug.value, drug.adjudication, drug.rationale) == (20, 3, "Sample: clinical data")
    assert (drug.service, drug.effective_date) == ("practitioner", datetime.date(2025, 1, 1))
    assert MueValue.objects.get(code="E0100").adjudication == MueValue.Adjudication.LINE
    assert "MUE values: 6 added, 0 updated, 0 deleted, 0 unchanged" in output


def test_a_new_quarter_starts_new_values_and_closes_the_old_ones(import_codes):
    import_codes("cms-mue", JANUARY)

    output = import_codes("cms-mue", APRIL)

    assert "MUE values: 0 added, 1 updated, 1 deleted, 4 unchanged" in output
    april = datetime.date(2025, 4, 15)
    assert MueValue.objects.as_of(april).get(code="J1100").value == 30
    assert MueValue.objects.as_of(datetime.date(2025, 2, 1)).get(code="J1100").value == 20
    assert not MueValue.objects.as_of(april).filter(code="E0100").exists()
    assert MueValue.objects.as_of(april).get(code="64493").effective_date == datetime.date(
        2025, 1, 1
    )  # unchanged values keep their row
    assert MueValue.objects.count() == 7


def test_importing_the_same_file_twice_changes_nothing(import_codes):
    import_codes("cms-mue", JANUARY)
    import_codes("cms-mue", APRIL)

    output = import_codes("cms-mue", APRIL)

    assert "MUE values: 0 added, 0 updated, 0 deleted, 5 unchanged" in output
    assert MueValue.objects.count() == 7


def test_the_service_comes_from_the_header(import_codes, tmp_path):
    dme = write_variant(
        tmp_path,
        JANUARY.name,
        lambda data: data.replace(
            b"Practitioner Services MUE Values", b"DME Supplier Services MUE Values"
        ),
        name="mue-dme.csv",
    )

    import_codes("cms-mue", dme, effective="2025-01-01")

    assert set(MueValue.objects.values_list("service", flat=True)) == {"dme"}


def test_without_an_effective_date_a_warning_says_the_values_are_undated(import_codes, tmp_path):
    undated = write_variant(tmp_path, JANUARY.name, lambda data: data, name="mue.csv")

    output = import_codes("cms-mue", undated)

    assert "mue.csv: no effective date" in output
    assert MueValue.objects.filter(effective_date__isnull=True).count() == 6


@pytest.mark.parametrize(
    ("find", "replace", "message"),
    [
        (b"J1100,20,3 Date", b"J1100,2O,3 Date", "line 9, field MUE Values: '2O' is not a whole"),
        (
            b"E0100,1,1 Line Edit",
            b"E0100,1,4 Line Edit",
            "line 8, field MUE Adjudication Indicator: '4 Line Edit': expected 1, 2 or 3",
        ),
        (b"E0100,1,1 Line Edit", b"E01,1,1 Line Edit", "line 8, field HCPCS/CPT Code: 'E01'"),
        (b"HCPCS/CPT Code,Practitioner Services MUE Values", b"Code,Value", "no header row"),
        (
            b"36415,2,3 Date of Service Edit: Clinical,Sample: clinical data",
            b"36415,2",
            "line 4: 2 columns, expected 4",
        ),
    ],
)
def test_a_bad_row_is_an_error_naming_the_line_and_column(
    import_codes, tmp_path, find, replace, message
):
    broken = write_variant(tmp_path, JANUARY.name, lambda data: data.replace(find, replace, 1))

    with pytest.raises(CommandError, match=message):
        import_codes("cms-mue", broken)
    assert not MueValue.objects.exists()


def test_an_indicator_worded_differently_is_a_warning(import_codes, tmp_path):
    reworded = write_variant(
        tmp_path, JANUARY.name, lambda data: data.replace(b"1 Line Edit", b"1 Per Line")
    )

    output = import_codes("cms-mue", reworded)

    assert "'1 Per Line' does not read '1 Line Edit'" in output
    assert MueValue.objects.get(code="E0100").adjudication == 1
