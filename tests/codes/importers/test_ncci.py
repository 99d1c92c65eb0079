import datetime

import pytest
from django.core.management.base import CommandError

from codes.models import NcciEdit
from tests.codes.importers.conftest import SAMPLES, write_variant

pytestmark = pytest.mark.django_db

SAMPLE = SAMPLES / "ccipra-v311r0-f1.txt"


def edit(column1: str, column2: str) -> NcciEdit:
    """The pair as the latest edition imported lists it."""
    return (
        NcciEdit.objects.filter(column1=column1, column2=column2)
        .order_by("-edition__effective_date")
        .first()
    )


def test_edit_lines_after_the_copyright_and_header_become_ptp_edits(import_codes):
    output = import_codes("cms-ncci-ptp", SAMPLE)

    assert NcciEdit.objects.count() == 4
    guidance = edit("64493", "77003")
    assert (guidance.effective_date, guidance.deletion_date) == (datetime.date(2010, 1, 1), None)
    assert (guidance.modifier_indicator, guidance.prior_1996) == ("0", False)
    assert guidance.rationale == "Sample: guidance is part of the code"
    assert guidance.setting == "practitioner"  # ccipra in the file name
    assert edit("64494", "77003").deletion_date == datetime.date(2018, 12, 31)
    assert edit("99213", "36415").prior_1996
    assert "PTP edits: 4 added, 0 updated, 0 deleted, 0 unchanged" in output


def test_edits_in_force_on_a_date_leave_out_deleted_ones(import_codes):
    import_codes("cms-ncci-ptp", SAMPLE)

    in_force = NcciEdit.objects.as_of(datetime.date(2024, 6, 1))
    assert set(in_force.values_list("column1", "column2")) == {
        ("64493", "20552"),
        ("64493", "77003"),
        ("99213", "36415"),
    }


def test_a_newer_release_deleting_an_edit_counts_it_deleted(import_codes, tmp_path):
    import_codes("cms-ncci-ptp", SAMPLE)
    newer = write_variant(
        tmp_path,
        SAMPLE.name,
        lambda data: data.replace(b"20552\t\t20100101\t*\t1", b"20552\t\t20100101\t20250630\t1"),
        name="ccipra-v312r0-f1.txt",
    )

    output = import_codes("cms-ncci-ptp", newer)

    assert edit("64493", "20552").deletion_date == datetime.date(2025, 6, 30)
    assert "PTP edits: 0 added, 0 updated, 1 deleted, 3 unchanged" in output


def test_importing_the_same_file_twice_changes_nothing(import_codes):
    import_codes("cms-ncci-ptp", SAMPLE)

    output = import_codes("cms-ncci-ptp", SAMPLE)

    assert "PTP edits: 0 added, 0 updated, 0 deleted, 4 unchanged" in output
    assert NcciEdit.objects.count() == 4


def test_the_setting_comes_from_the_option_or_a_warning_says_what_was_assumed(
    import_codes, tmp_path
):
    unnamed = write_variant(tmp_path, SAMPLE.name, lambda data: data, name="edits.txt")

    output = import_codes("cms-ncci-ptp", unnamed, edition="31.1")
    assert "practitioner assumed; pass --setting" in output

    import_codes("cms-ncci-ptp", unnamed, setting="hospital", edition="31.1")
    assert NcciEdit.objects.filter(setting="hospital").count() == 4


@pytest.mark.parametrize(
    ("find", "replace", "message"),
    [
        (
            b"77003\t\t20100101\t*\t0",
            b"77003\t\t20100101\t*\t2",
            "line 4, field Modifier: '2': expected 0, 1 or 9",
        ),
        (
            b"77003\t\t20100101\t*\t0",
            b"77003\t\t20101301\t*\t0",
            "line 4, field Effective Date: '20101301' is not a real date",
        ),
        (
            b"77003\t\t20100101\t20181231",
            b"77003\t\t20100101\t2018-12-31",
            "line 5, field Deletion Date: '2018-12-31' is not a date \\(YYYYMMDD\\)",
        ),
        (b"36415\t*\t", b"36415\tY\t", "line 6, field in existence prior to 1996"),
        (
            b"20552\t\t20100101\t*\t1\tSample: procedures that exclude each other",
            b"20552\t\t20100101",
            "line 3: 4 tab-separated fields, expected 7",
        ),
        (b"Column 1\t", b"Col one\t", "line 3: edit lines before the Column 1 / Column 2 header"),
    ],
)
def test_a_bad_line_is_an_error_naming_the_line_and_field(
    import_codes, tmp_path, find, replace, message
):
    broken = write_variant(tmp_path, SAMPLE.name, lambda data: data.replace(find, replace, 1))

    with pytest.raises(CommandError, match=message):
        import_codes("cms-ncci-ptp", broken)
    assert not NcciEdit.objects.exists()
