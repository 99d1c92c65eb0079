"""What each import records for the change feed: NCCI pairs, MUE values, RVUs and payment,
descriptors and ICD-10-CM codes, between two editions. The fee schedule, NCCI and MUE cases
import slices of the real CMS files in ../shared/data with hand-altered earlier copies."""

from __future__ import annotations

import datetime
import gzip
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from codes.models import CodeChange, ImportRun
from tests.codes.importers.conftest import SAMPLES

pytestmark = pytest.mark.django_db

Kind = CodeChange.Kind
NCCI_FILE = "ncci/ptp-practitioner-2024q2-v301r0.tsv.gz"
MUE_FILE = "mue/mue-practitioner-2024q2.csv"


def pair_changes(**filters) -> set[tuple]:
    """NCCI changes as (code, kind, other code, its column, indicator before, after)."""
    return {
        (
            c.code,
            c.kind,
            c.other_code,
            c.column,
            *(side["modifier_indicator"] if side else None for side in (c.before, c.after)),
        )
        for c in CodeChange.objects.filter(**filters)
    }


# --- Fee schedule: PFS 2023 → 2025, worked out by hand ------------------------------------------


def _pfs_slice(source: Path, target: Path, codes: set[str]) -> Path:
    """The file's title and heading rows, then the rows of `codes` only."""
    with source.open(encoding="latin-1") as lines, target.open("w", encoding="latin-1") as out:
        heading = True
        for line in lines:
            if heading or line.split(",", 1)[0] in codes:
                out.write(line)
            heading = heading and not line.startswith("HCPCS,MOD")
    return target


@pytest.fixture
def pfs_2023_then_2025(import_codes, real_data, tmp_path):
    wanted = {"99214", "64494"}
    import_codes(
        "cms-pfs-rvu",
        _pfs_slice(real_data / "pfs/PPRRVU23_JAN.csv", tmp_path / "PPRRVU23_JAN.csv", wanted),
    )
    assert not CodeChange.objects.exists()  # the first release on file is no news
    import_codes(
        "cms-pfs-rvu",
        _pfs_slice(real_data / "pfs/PPRRVU25_JAN1.csv", tmp_path / "PPRRVU25_JAN1.csv", wanted),
    )


def test_pfs_2025_records_the_rvu_and_payment_changes_of_99214_against_2023(pfs_2023_then_2025):
    change = CodeChange.objects.get(code="99214")

    # The rows, as grep finds them:
    # PPRRVU23_JAN.csv:  99214,,…,A,,1.92,1.73,,0.82,,0.14,3.79,2.88,…,33.8872
    # PPRRVU25_JAN1.csv: 99214,,…,A,,1.92,1.8,,0.83,,0.15,3.87,2.9,…,32.3465
    assert (change.kind, change.system, change.field) == (Kind.RVU_CHANGED, "cpt", "")
    assert change.before == {
        "work_rvu": "1.92",
        "nonfacility_pe_rvu": "1.73",
        "facility_pe_rvu": "0.82",
        "mp_rvu": "0.14",
        "nonfacility_total": "3.79",
        "facility_total": "2.88",
        "conversion_factor": "33.8872",
        "nonfacility_payment": "128.43",  # 3.79 × 33.8872 = 128.432488
        "facility_payment": "97.60",  # 2.88 × 33.8872 = 97.595136
    }
    assert change.after == {
        "work_rvu": "1.92",
        "nonfacility_pe_rvu": "1.80",
        "facility_pe_rvu": "0.83",
        "mp_rvu": "0.15",
        "nonfacility_total": "3.87",
        "facility_total": "2.90",
        "conversion_factor": "32.3465",
        "nonfacility_payment": "125.18",  # 3.87 × 32.3465 = 125.180955
        "facility_payment": "93.80",  # 2.90 × 32.3465 = 93.80485
    }
    # (125.18 − 128.43) / 128.43 = −3.25 / 128.43 = −0.025306 → −2.53 %
    assert change.percent == Decimal("-2.53")
    assert (change.edition_before, change.edition_after) == (
        "PFS 2023-JAN release",
        "PFS 2025-JAN release",
    )
    assert (change.effective_before, change.effective_after) == (
        datetime.date(2023, 1, 1),
        datetime.date(2025, 1, 1),
    )


def test_pfs_2025_records_64494_with_a_percentage_for_each_figure_that_moved(
    pfs_2023_then_2025,
):
    from codes.changes import figure_rows

    change = CodeChange.objects.get(code="64494")

    # PPRRVU23_JAN.csv:  64494,,…,A,,1.00,1.60,,0.41,,0.10,2.70,1.51,…,ZZZ,…,33.8872
    # PPRRVU25_JAN1.csv: 64494,,…,A,,1,1.62,,0.42,,0.1,2.72,1.52,…,ZZZ,…,32.3465
    # Non-facility payment: 2.70 × 33.8872 = 91.49544 → 91.50; 2.72 × 32.3465 = 87.98248 → 87.98
    # (87.98 − 91.50) / 91.50 = −3.52 / 91.50 = −0.038470 → −3.85 %
    assert change.percent == Decimal("-3.85")
    assert figure_rows(change) == [
        ("non-facility PE RVU", "1.60", "1.62", Decimal("1.25")),  # 0.02 / 1.60 = 1.25 %
        ("facility PE RVU", "0.41", "0.42", Decimal("2.44")),  # 0.01 / 0.41 = 2.439 %
        ("non-facility total RVUs", "2.70", "2.72", Decimal("0.74")),  # 0.02 / 2.70 = 0.741 %
        ("facility total RVUs", "1.51", "1.52", Decimal("0.66")),  # 0.01 / 1.51 = 0.662 %
        ("conversion factor", "33.8872", "32.3465", Decimal("-4.55")),  # −1.5407 / 33.8872
        ("national payment, non-facility", "91.50", "87.98", Decimal("-3.85")),
        # 1.51 × 33.8872 = 51.169672 → 51.17; 1.52 × 32.3465 = 49.16668 → 49.17;
        # −2.00 / 51.17 = −0.039085 → −3.91 %
        ("national payment, facility", "51.17", "49.17", Decimal("-3.91")),
    ]  # work RVU (1.00) and MP RVU (0.10) did not move, so they are not listed


def test_importing_a_release_again_records_nothing_more(pfs_2023_then_2025, import_codes, tmp_path):
    recorded = CodeChange.objects.count()

    import_codes("cms-pfs-rvu", tmp_path / "PPRRVU25_JAN1.csv")

    assert CodeChange.objects.count() == recorded == 2


# --- NCCI: the real 64493/64494 edits over a hand-altered earlier edition ------------------------


@pytest.fixture
def ncci_slices(real_data, tmp_path) -> tuple[Path, Path]:
    """v30.1 (2024-04-01): every real edit with 64493 or 64494 in column 1. v30.0 (2024-01-01):
    the same with three lines altered by hand."""
    with gzip.open(real_data / NCCI_FILE, "rt", encoding="utf-8") as source:
        header = next(source)
        lines = [line for line in source if line.split("\t", 1)[0] in {"64493", "64494"}]
    real = tmp_path / "ccipra-v301r0-facet.txt"
    real.write_text(header + "".join(lines))
    altered = []
    for line in lines:
        column1, column2, rest = line.split("\t", 2)
        if (column1, column2) == ("64493", "0213T"):  # real: in force, indicator 0
            line = line.replace("\t*\t0\t", "\t*\t1\t")
        elif (column1, column2) == ("64493", "01991"):  # real: in force; left out before
            continue
        elif (column1, column2) == ("64493", "0282T"):  # real: deleted 20161231
            line = line.replace("\t20161231\t", "\t*\t")
        altered.append(line)
    earlier = tmp_path / "ccipra-v300r0-facet.txt"
    earlier.write_text(header + "".join(altered))
    assert len(altered) == len(lines) - 1 == 345
    return earlier, real


def test_a_new_ncci_edition_records_pairs_added_deleted_and_reindicated(import_codes, ncci_slices):
    earlier, real = ncci_slices
    import_codes("cms-ncci-ptp", earlier)
    assert not CodeChange.objects.exists()  # the first edition ever imported is no news

    import_codes("cms-ncci-ptp", real)

    assert pair_changes() == {
        ("64493", Kind.NCCI_INDICATOR, "0213T", 1, "1", "0"),
        ("0213T", Kind.NCCI_INDICATOR, "64493", 2, "1", "0"),
        ("64493", Kind.NCCI_ADDED, "01991", 1, None, "0"),
        ("01991", Kind.NCCI_ADDED, "64493", 2, None, "0"),
        ("64493", Kind.NCCI_DELETED, "0282T", 1, "0", None),
        ("0282T", Kind.NCCI_DELETED, "64493", 2, "0", None),
    }
    change = CodeChange.objects.filter(code="64493").first()
    assert (change.edition_before, change.edition_after) == (
        "NCCI PTP v30.0, effective 2024-01-01",
        "NCCI PTP v30.1, effective 2024-04-01",
    )
    assert change.effective_before == datetime.date(2024, 1, 1)
    assert change.effective_after == datetime.date(2024, 4, 1)
    assert change.run == ImportRun.objects.get(filename=real.name)


def test_a_favourite_in_either_column_finds_its_pair_changes(import_codes, ncci_slices):
    earlier, real = ncci_slices
    import_codes("cms-ncci-ptp", earlier)
    import_codes("cms-ncci-ptp", real)

    found = CodeChange.objects.for_codes([("cpt", "0213T")])

    assert list(found.values_list("code", "other_code", "column")) == [("0213T", "64493", 2)]
    assert CodeChange.objects.for_codes([("cpt", "64494")]).count() == 0


def test_an_ncci_edition_imported_again_records_nothing_the_second_time(import_codes, ncci_slices):
    earlier, real = ncci_slices
    import_codes("cms-ncci-ptp", earlier)
    import_codes("cms-ncci-ptp", real)

    import_codes("cms-ncci-ptp", real)

    assert CodeChange.objects.count() == 6


def test_an_edition_reimported_with_differences_records_them_against_its_stored_rows(
    import_codes, ncci_slices, tmp_path
):
    earlier, real = ncci_slices
    import_codes("cms-ncci-ptp", earlier)
    import_codes("cms-ncci-ptp", real)
    corrected = tmp_path / "corrected" / real.name
    corrected.parent.mkdir()
    text = real.read_text()
    corrected.write_text(text.replace("64494\t0213T\t\t\t*\t0\t", "64494\t0213T\t\t\t*\t1\t"))
    assert corrected.read_text() != text

    import_codes("cms-ncci-ptp", corrected)

    second = ImportRun.objects.latest("started_at")
    assert pair_changes(run=second) == {
        ("64494", Kind.NCCI_INDICATOR, "0213T", 1, "0", "1"),
        ("0213T", Kind.NCCI_INDICATOR, "64494", 2, "0", "1"),
    }
    assert set(second.changes.values_list("edition_before", flat=True)) == {
        "NCCI PTP v30.1, effective 2024-04-01"
    }


def test_a_dry_run_or_a_failed_import_records_no_change(import_codes, ncci_slices, tmp_path):
    earlier, real = ncci_slices
    import_codes("cms-ncci-ptp", earlier)
    import_codes("cms-ncci-ptp", real, dry_run=True)
    assert not CodeChange.objects.exists()

    broken = tmp_path / "broken" / real.name
    broken.parent.mkdir()
    broken.write_text(real.read_text() + "64494\tNOT-A-CODE\t\t\t*\t0\tBroken\n")
    with pytest.raises(CommandError, match="not a HCPCS/CPT code"):
        import_codes("cms-ncci-ptp", broken)

    assert not CodeChange.objects.exists()
    assert ImportRun.objects.count() == 1


def test_no_change_feed_imports_the_edition_without_recording(import_codes, ncci_slices):
    earlier, real = ncci_slices
    import_codes("cms-ncci-ptp", earlier)

    import_codes("cms-ncci-ptp", real, no_change_feed=True)

    assert not CodeChange.objects.exists()
    assert ImportRun.objects.count() == 2


# --- MUE: the real 2024 Q2 values over a hand-altered Q1 -----------------------------------------


def test_a_new_mue_quarter_records_value_and_indicator_changes(import_codes, real_data, tmp_path):
    wanted = {"64493", "64494", "64495", "99214"}
    with (real_data / MUE_FILE).open(encoding="utf-8") as source:
        header = next(source)
        rows = [line for line in source if line.split(",", 1)[0] in wanted]
    # The real rows: 64493,1,2 …; 64494,1,2 …; 64495,1,2 …; 99214,2,3 Date of Service Edit: Clinical
    april = tmp_path / "april" / "MCR_MUE_PractitionerServices_Eff_04-01-2024.csv"
    january = tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2024.csv"
    april.parent.mkdir()
    april.write_text(header + "".join(rows))
    altered = "".join(rows).replace("99214,2,", "99214,3,")  # the value moves 3 → 2
    altered = altered.replace("64494,1,2 Date of Service Edit: Policy", "64494,1,1 Line Edit")
    january.write_text(
        header + altered.replace("".join(r for r in rows if r.startswith("64495")), "")
    )
    import_codes("cms-mue", january)
    assert not CodeChange.objects.exists()

    import_codes("cms-mue", april)

    found = {c.code: c for c in CodeChange.objects.all()}
    assert set(found) == {"99214", "64494", "64495"}
    assert (found["99214"].before["value"], found["99214"].after["value"]) == (3, 2)
    assert (found["64494"].before["adjudication"], found["64494"].after["adjudication"]) == (1, 2)
    assert (found["64495"].before, found["64495"].after["value"]) == (None, 1)  # new in Q2
    assert found["99214"].kind == Kind.MUE_CHANGED
    assert (found["99214"].edition_before, found["99214"].edition_after) == (
        "MUE 2024 Q1, effective 2024-01-01",
        "MUE 2024 Q2, effective 2024-04-01",
    )


def test_mue_values_that_stand_record_nothing(import_codes):
    import_codes("cms-mue", SAMPLES / "MCR_MUE_PractitionerServices_Eff_01-01-2025.csv")
    import_codes("cms-mue", SAMPLES / "MCR_MUE_PractitionerServices_Eff_01-01-2025.csv")

    assert not CodeChange.objects.exists()


# --- Code sets: descriptors, and ICD-10-CM codes added and retired -------------------------------


def test_a_newer_icd10cm_edition_records_codes_added_retired_and_revised(import_codes):
    import_codes("cdc-icd10cm-xml", SAMPLES / "icd10cm-tabular-2025-sample.xml")
    assert not CodeChange.objects.exists()  # the first edition: everything would be new

    import_codes("cdc-icd10cm-xml", SAMPLES / "icd10cm-tabular-2026-sample.xml")

    found = {c.code: c for c in CodeChange.objects.all()}
    assert {code: c.kind for code, c in found.items()} == {
        "M54.52": Kind.ICD_ADDED,
        "M54.59": Kind.ICD_RETIRED,
        "M54.51": Kind.DESCRIPTOR_REVISED,
    }
    # The tabular list has one text per code: short and long descriptors both carry it.
    assert found["M54.51"].before == {
        "short_descriptor": "Vertebrogenic low back pain",
        "long_descriptor": "Vertebrogenic low back pain",
    }
    assert found["M54.51"].after["long_descriptor"] == "Vertebrogenic low back pain, lumbar"
    assert found["M54.52"].after["short_descriptor"] == (
        "Sample low back pain of the sacroiliac region"
    )
    assert (found["M54.59"].edition_before, found["M54.59"].edition_after) == (
        "ICD-10-CM FY2025",
        "ICD-10-CM FY2026",
    )
    assert (found["M54.59"].effective_before, found["M54.59"].effective_after) == (
        datetime.date(2024, 10, 1),
        datetime.date(2025, 10, 1),
    )


def test_a_favourite_icd10cm_code_watches_its_category(import_codes):
    import_codes("cdc-icd10cm-xml", SAMPLES / "icd10cm-tabular-2025-sample.xml")
    import_codes("cdc-icd10cm-xml", SAMPLES / "icd10cm-tabular-2026-sample.xml")

    watched = CodeChange.objects.for_codes([("icd10cm", "M54.50")])

    # M54.51's revision is its own favourites' news; the codes added and retired in M54 are
    # every M54 favourite's.
    assert set(watched.values_list("code", flat=True)) == {"M54.52", "M54.59"}


def test_a_newer_hcpcs_edition_records_descriptors_added_deleted_and_revised(import_codes):
    import_codes("cms-hcpcs", SAMPLES / "HCPC2016_SAMPLE.txt")

    import_codes("cms-hcpcs", SAMPLES / "HCPC2017_SAMPLE.txt")

    found = {c.code: c for c in CodeChange.objects.all()}
    assert {code: c.kind for code, c in found.items()} == {
        "A0100": Kind.DESCRIPTOR_REVISED,
        "J1100": Kind.DESCRIPTOR_DELETED,
        "G0500": Kind.DESCRIPTOR_ADDED,
    }
    assert found["A0100"].after == {
        "short_descriptor": "Sample taxi trip",
        "long_descriptor": "Sample nonemergency transport by taxi, per trip",
    }
    assert found["A0100"].field == "short,long"
    assert (found["J1100"].edition_before, found["J1100"].edition_after) == (
        "HCPCS 2016",
        "HCPCS 2017",
    )
    assert found["J1100"].effective_before == datetime.date(2016, 1, 1)
