from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from codes.models import Code, CodeSystem, RvuLine
from tests.codes.importers.conftest import SAMPLES, write_variant
from tests.factories import make_code, make_system

pytestmark = pytest.mark.django_db

SAMPLE = SAMPLES / "PPRRVU25_JAN_SAMPLE.csv"


def line(code: str, modifier: str = "") -> RvuLine:
    return RvuLine.objects.get(code=code, modifier=modifier)


def test_each_code_and_modifier_line_becomes_an_rvu_line(import_codes):
    import_codes("cms-pfs-rvu", SAMPLE)

    assert RvuLine.objects.count() == 8
    facet = line("64493")
    assert (facet.edition, facet.year, facet.status_code, facet.global_days) == (
        "2025-JAN",
        2025,
        "A",
        "000",
    )
    assert (facet.work_rvu, facet.nonfacility_pe_rvu, facet.facility_pe_rvu, facet.mp_rvu) == (
        Decimal("1.52"),
        Decimal("2.79"),
        Decimal("0.66"),
        Decimal("0.12"),
    )
    assert (facet.nonfacility_total, facet.facility_total) == (Decimal("4.43"), Decimal("2.30"))
    assert (facet.mult_proc, facet.bilat_surg, facet.asst_surg, facet.co_surg, facet.team_surg) == (
        "2",
        "1",
        "1",
        "0",
        "0",
    )
    assert facet.conversion_factor == Decimal("32.3465")
    assert facet.extra["physician_supervision"] == "09"
    assert (facet.extra["calculation_flag"], facet.extra["imaging_family"]) == ("0", "99")
    professional, technical = line("70450", "26"), line("70450", "TC")
    assert (professional.pctc_indicator, professional.work_rvu) == ("1", Decimal("0.85"))
    assert technical.work_rvu == Decimal("0.00")


def test_an_na_indicator_leaves_that_setting_without_pe_rvu(import_codes):
    import_codes("cms-pfs-rvu", SAMPLE)

    technical = line("70450", "TC")
    assert (technical.facility_pe_rvu, technical.facility_total) == (None, None)
    assert technical.facility_payment is None
    assert technical.extra["facility_na_indicator"] == "NA"
    assert technical.extra["facility_pe_rvu_in_file"] == "2.80"
    pacer = line("33210")
    assert (pacer.nonfacility_pe_rvu, pacer.facility_pe_rvu) == (None, Decimal("1.03"))


def test_the_national_payment_follows_from_the_totals(import_codes):
    import_codes("cms-pfs-rvu", SAMPLE)

    assert line("64494").nonfacility_payment == Decimal("87.34")  # 2.70 x 32.3465


def test_missing_codes_are_created_in_their_system_with_the_short_descriptor(import_codes):
    import_codes("cms-pfs-rvu", SAMPLE)

    visit = Code.objects.select_related("group").get(system__slug="cpt", key="99213")
    assert visit.short_descriptor == "Sample office visit est pt"
    assert visit.group.title == "Evaluation and Management"
    screening = Code.objects.get(system__slug="hcpcs", key="G0101")
    assert screening.short_descriptor == "Sample pelvic screening exam"
    assert Code.objects.filter(system__slug="cpt").count() == 5
    assert CodeSystem.objects.get(slug="cpt").copyright == (
        "CPT® © Copyright 2024 American Medical Association. All rights reserved."
    )


def test_zzz_global_days_mark_the_code_as_an_add_on(import_codes):
    import_codes("cms-pfs-rvu", SAMPLE)

    assert Code.objects.get(key="64494").is_addon
    assert not Code.objects.get(key="64493").is_addon


def test_existing_codes_keep_their_descriptors_and_editor_text(import_codes):
    cpt = make_system("cpt")
    make_code(
        "64494",
        system=cpt,
        short="Our short",
        long="The official long descriptor.",
        plain="Our plain words.",
    )

    output = import_codes("cms-pfs-rvu", SAMPLE)

    code = Code.objects.get(key="64494")
    assert (code.short_descriptor, code.long_descriptor, code.plain_language) == (
        "Our short",
        "The official long descriptor.",
        "Our plain words.",
    )
    assert code.is_addon
    assert "CPT codes: 4 added, 1 updated, 0 deleted, 0 unchanged" in output


def test_importing_the_same_file_twice_changes_nothing(import_codes):
    import_codes("cms-pfs-rvu", SAMPLE)

    output = import_codes("cms-pfs-rvu", SAMPLE)

    assert "RVU lines: 0 added, 0 updated, 0 deleted, 8 unchanged" in output
    assert "CPT codes: 0 added, 0 updated, 0 deleted, 5 unchanged" in output


def test_a_corrected_release_updates_its_lines(import_codes, tmp_path):
    import_codes("cms-pfs-rvu", SAMPLE)
    corrected = write_variant(
        tmp_path,
        SAMPLE.name,
        lambda data: data.replace(
            b"64493,,Sample inj facet lumbar 1st,A,,1.52",
            b"64493,,Sample inj facet lumbar 1st,A,,1.60",
        ),
    )

    output = import_codes("cms-pfs-rvu", corrected)

    assert line("64493").work_rvu == Decimal("1.60")
    assert "RVU lines: 0 added, 1 updated, 0 deleted, 7 unchanged" in output


@pytest.mark.parametrize(
    ("find", "replace", "message"),
    [
        (
            b"64494,,Sample inj facet lumbar 2nd,A,,1.00",
            b"64494,,Sample inj facet lumbar 2nd,A,,1.0O",
            "line 12, field WORK RVU: '1.0O' is not a number",
        ),
        (
            b",32.3465,09,0,99,0.00,0.00,0.00\r\n99213",
            b"\r\n99213",
            "line 16: 24 columns, the header has 31: a truncated row",
        ),
        (b"HCPCS,MOD,DESCRIPTION", b"CODE,MOD,DESCRIPTION", "no header row starting HCPCS,MOD"),
        (b"70450,26,", b"70450,2XY,", "line 14, field MOD: '2XY' is not a modifier"),
        (b",0,99,0.00,0.00,0.00\r\n64494", b',0,99,0.00,0.00,"0.00\r\n64494', "not valid CSV"),
    ],
)
def test_a_broken_row_is_an_error_naming_the_line_and_column(
    import_codes, tmp_path, find, replace, message
):
    broken = write_variant(tmp_path, SAMPLE.name, lambda data: data.replace(find, replace, 1))

    with pytest.raises(CommandError, match=message):
        import_codes("cms-pfs-rvu", broken)
    assert not RvuLine.objects.exists()
    assert not Code.objects.exists()
