"""Files as publishers ship them: Windows-1252, disclaimer lines, gzip, CMS zip archives,
NCCI editions over time."""

import datetime
import gzip
import zipfile
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from codes.importers.ncci import quarter_start
from codes.models import Code, EditEdition, ImportRun, MueValue, NcciEdit
from tests.codes.importers.conftest import SAMPLES, write_variant

pytestmark = pytest.mark.django_db

HCPCS = SAMPLES / "HCPC2016_SAMPLE.txt"
NCCI = SAMPLES / "ccipra-v311r0-f1.txt"
DISCLAIMER = (
    b"HCPCS 2016 alpha-numeric file\xa0\xa0 Disclaimer: CPT codes and descriptors \xa9 AMA\r\n"
    b"\r\n"
    b"   Read the record layout before using this file.\r\n"
)


def _zip(target: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def _pair(column1: str, column2: str, day: datetime.date) -> NcciEdit | None:
    return NcciEdit.objects.as_of(day).filter(column1=column1, column2=column2).first()


# --- Encoding and preambles --------------------------------------------------------------------


def test_disclaimer_lines_before_the_first_hcpcs_record_are_skipped_and_counted(
    import_codes, tmp_path
):
    shipped = write_variant(tmp_path, HCPCS.name, lambda data: DISCLAIMER + data)

    output = import_codes("cms-hcpcs", shipped)

    assert "read as Windows-1252" in output
    assert "skipped (not records): 2 disclaimer lines before the first record" in output
    assert Code.objects.filter(key="A0100").exists()


def test_a_bad_first_record_after_a_disclaimer_still_fails_with_its_line(import_codes, tmp_path):
    broken = write_variant(
        tmp_path,
        HCPCS.name,
        lambda data: DISCLAIMER + data.replace(b"A0100001003", b"A0100001009", 1),
    )

    with pytest.raises(CommandError, match="line 4, field record identification code: unknown"):
        import_codes("cms-hcpcs", broken)
    assert not Code.objects.exists()


def test_a_gzip_file_is_read_directly(import_codes, tmp_path):
    packed = tmp_path / f"{HCPCS.name}.gz"
    packed.write_bytes(gzip.compress(HCPCS.read_bytes()))

    output = import_codes("cms-hcpcs", packed)

    assert "codes: 0 added" not in output
    assert Code.objects.filter(key="A0100").exists()


def test_a_broken_gzip_file_is_a_clear_error(import_codes, tmp_path):
    packed = tmp_path / "ccipra-v311r0-f1.txt.gz"
    packed.write_bytes(gzip.compress(NCCI.read_bytes())[:-30])

    with pytest.raises(CommandError, match="a broken compressed file"):
        import_codes("cms-ncci-ptp", packed)
    assert not NcciEdit.objects.exists() and not EditEdition.objects.exists()


# --- Zip archives ------------------------------------------------------------------------------


def test_the_ncci_text_is_picked_out_of_a_cms_zip_archive(import_codes, tmp_path):
    archive = _zip(
        tmp_path / "ccipra-v311r0-f1.zip",
        {
            "README.txt": b"Read me first: how to use the NCCI PTP edit files.\r\n",
            "ccipra-v311r0-f1.txt": NCCI.read_bytes(),
            "NCCI-PTP-Policy.pdf": b"%PDF-1.4 not text",
        },
    )

    output = import_codes("cms-ncci-ptp", archive)

    assert "PTP edits: 4 added" in output
    assert NcciEdit.objects.count() == 4


def test_parts_named_together_are_one_edition_in_one_transaction(import_codes, tmp_path):
    second = NCCI.read_bytes().replace(b"99213\t36415", b"99214\t36415")
    first_zip = _zip(tmp_path / "ccipra-v311r0-f1.zip", {"ccipra-v311r0-f1.txt": NCCI.read_bytes()})
    second_zip = _zip(tmp_path / "ccipra-v311r0-f2.zip", {"ccipra-v311r0-f2.txt": second})

    output = import_codes("cms-ncci-ptp", first_zip, second_zip)

    assert ImportRun.objects.count() == 1
    assert EditEdition.objects.get().label == "NCCI PTP v31.1, effective 2025-04-01"
    assert NcciEdit.objects.filter(edition__version="31.1").count() == 5  # 4 + the new pair
    assert "listed again" in output  # the rows the two parts share


def test_a_broken_part_leaves_nothing_from_the_other_parts(import_codes, tmp_path):
    broken = NCCI.read_bytes().replace(b"\t0\t", b"\t7\t")
    first_zip = _zip(tmp_path / "ccipra-v311r0-f1.zip", {"ccipra-v311r0-f1.txt": NCCI.read_bytes()})
    second_zip = _zip(tmp_path / "ccipra-v311r0-f2.zip", {"ccipra-v311r0-f2.txt": broken})

    with pytest.raises(CommandError, match=r"ccipra-v311r0-f2.zip:ccipra-v311r0-f2.txt, line 4"):
        import_codes("cms-ncci-ptp", first_zip, second_zip)
    assert not NcciEdit.objects.exists() and not EditEdition.objects.exists()


def test_a_zip_without_a_file_in_the_layout_is_refused(import_codes, tmp_path):
    archive = _zip(tmp_path / "ccipra-v311r0-f1.zip", {"README.txt": b"nothing here\r\n"})

    with pytest.raises(CommandError, match="no member of the archive is a CMS NCCI"):
        import_codes("cms-ncci-ptp", archive)


def test_a_file_that_is_not_a_zip_is_refused(import_codes, tmp_path):
    fake = tmp_path / "ccipra-v311r0-f1.zip"
    fake.write_bytes(b"not a zip")

    with pytest.raises(CommandError, match="not a readable zip archive"):
        import_codes("cms-ncci-ptp", fake)


# --- NCCI editions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "start"),
    [
        ("30.0", "2024-01-01"),
        ("30.1", "2024-04-01"),
        ("31.2", "2025-07-01"),
        ("32.3", "2026-10-01"),
    ],
)
def test_an_ncci_version_takes_effect_at_the_start_of_its_quarter(version, start):
    assert quarter_start(version) == datetime.date.fromisoformat(start)


def test_a_later_edition_applies_from_its_effective_date(import_codes, tmp_path):
    import_codes("cms-ncci-ptp", NCCI)  # v31.1, from 2025-04-01
    later = write_variant(
        tmp_path,
        NCCI.name,
        lambda data: data.replace(b"20552\t\t20100101\t*\t1", b"20552\t\t20100101\t*\t0"),
        name="ccipra-v312r0-f1.txt",  # v31.2, from 2025-07-01
    )

    output = import_codes("cms-ncci-ptp", later)

    assert "PTP edits: 0 added, 1 updated, 0 deleted, 3 unchanged" in output
    assert _pair("64493", "20552", datetime.date(2025, 6, 30)).modifier_indicator == "1"
    assert _pair("64493", "20552", datetime.date(2025, 7, 1)).modifier_indicator == "0"
    assert _pair("64493", "20552", datetime.date(2025, 7, 1)).edition_label == (
        "NCCI PTP v31.2, effective 2025-07-01"
    )


def test_a_deleted_edit_stops_applying_after_its_deletion_date(import_codes, tmp_path):
    import_codes("cms-ncci-ptp", NCCI)
    later = write_variant(
        tmp_path,
        NCCI.name,
        lambda data: data.replace(b"20552\t\t20100101\t*\t1", b"20552\t\t20100101\t20250831\t1"),
        name="ccipra-v312r0-f1.txt",
    )
    import_codes("cms-ncci-ptp", later)

    assert _pair("64493", "20552", datetime.date(2025, 8, 31)) is not None
    assert _pair("64493", "20552", datetime.date(2025, 9, 1)) is None


def test_dates_before_the_first_edition_see_its_dated_edits(import_codes):
    import_codes("cms-ncci-ptp", NCCI)

    assert _pair("64493", "77003", datetime.date(2015, 1, 1)) is not None
    assert _pair("64494", "77003", datetime.date(2015, 1, 1)) is not None  # deleted 2018
    assert _pair("64494", "77003", datetime.date(2019, 1, 1)) is None


def test_an_edit_without_effective_date_applies_from_its_editions_start(import_codes, tmp_path):
    undated = write_variant(
        tmp_path,
        NCCI.name,
        lambda data: data.replace(b"77003\t\t20100101\t*", b"77003\t\t\t*"),
        name="ptp-practitioner-2025q2-v311r0.txt",
    )

    output = import_codes("cms-ncci-ptp", undated)

    assert "1 of 4 edits have no effective date" in output
    assert "taken as in force from the edition's start, 2025-04-01" in output
    assert _pair("64493", "77003", datetime.date(2025, 3, 31)) is None
    assert _pair("64493", "77003", datetime.date(2025, 4, 1)).effective_date is None


def test_strict_refuses_an_edit_without_effective_date(import_codes, tmp_path):
    undated = write_variant(
        tmp_path, NCCI.name, lambda data: data.replace(b"77003\t\t20100101\t*", b"77003\t\t\t*")
    )

    with pytest.raises(CommandError, match="line 4, field Effective Date: no effective date"):
        import_codes("cms-ncci-ptp", undated, strict=True)
    assert not NcciEdit.objects.exists()


def test_the_edition_comes_from_the_option_when_the_name_has_none(import_codes, tmp_path):
    unnamed = write_variant(tmp_path, NCCI.name, lambda data: data, name="edits.txt")

    with pytest.raises(CommandError, match="pass --edition"):
        import_codes("cms-ncci-ptp", unnamed)

    import_codes("cms-ncci-ptp", unnamed, edition="v30.1", setting="practitioner")
    assert EditEdition.objects.get().label == "NCCI PTP v30.1, effective 2024-04-01"


def test_an_ncci_dry_run_writes_no_edition_and_no_edits(import_codes):
    output = import_codes("cms-ncci-ptp", NCCI, dry_run=True)

    assert "PTP edits: 4 added" in output
    assert not EditEdition.objects.exists() and not NcciEdit.objects.exists()


# --- Real files --------------------------------------------------------------------------------


@pytest.mark.realdata
def test_the_real_ncci_layout_imports_from_a_slice_of_the_2024_file(
    import_codes, real_data, tmp_path
):
    """The heading and the first lines, and the 64494 lines, of the full 2.5-million-line
    file (which make bench imports whole)."""
    lines = []
    with gzip.open(real_data / "ncci/ptp-practitioner-2024q2-v301r0.tsv.gz", "rt") as stream:
        for number, line in enumerate(stream):
            if number <= 500 or line.startswith("64494\t"):
                lines.append(line)
    sliced = tmp_path / "ptp-practitioner-2024q2-v301r0.tsv.gz"
    sliced.write_bytes(gzip.compress("".join(lines).encode()))

    output = import_codes("cms-ncci-ptp", sliced)

    assert f"{len(lines) - 1} of {len(lines) - 1} edits have no effective date" in output
    assert "skipped (not records): 1 heading lines" in output
    edit = _pair("64494", "77003", datetime.date(2024, 6, 1))
    assert (edit.modifier_indicator, edit.rationale) == (
        "1",
        "CPT Manual or CMS manual coding instruction",
    )
    assert edit.edition_label == "NCCI PTP v30.1, effective 2024-04-01"


@pytest.mark.realdata
def test_the_2024_q2_mue_file_gives_14679_values(import_codes, real_data):
    output = import_codes("cms-mue", real_data / "mue/mue-practitioner-2024q2.csv")

    assert "MUE values: 14,679 added" in output
    limit = MueValue.objects.with_editions().get(code="64494")
    assert (limit.value, limit.adjudication, limit.rationale) == (1, 2, "CMS Policy")
    assert limit.edition_label == "MUE 2024 Q2, effective 2024-04-01"


@pytest.mark.realdata
def test_the_mue_file_as_cms_ships_it_imports_from_its_zip(import_codes, real_data, tmp_path):
    excerpt = real_data / "mue/MCR_MUE_PractitionerServices_Eff_07-01-2026-excerpt.csv"
    archive = _zip(
        tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2026.zip",
        {"MCR_MUE_PractitionerServices_Eff_07-01-2026.csv": excerpt.read_bytes()},
    )

    output = import_codes("cms-mue", archive)

    assert "read as Windows-1252" in output
    assert "skipped (not records): 7 notice lines before the heading" in output
    assert "MUE values: 44 added" in output
    assert MueValue.objects.get(code="0002M").adjudication == MueValue.Adjudication.CLINICAL
    assert EditEdition.objects.get().label == "MUE 2026 Q3, effective 2026-07-01"
