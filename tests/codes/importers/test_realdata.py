"""The public files in ../shared/data (or $CASEPILOT_REAL_DATA), one full import each.

Skipped, saying why, on a machine without the folder. Speed is measured by `make bench`
(bench/importers.py), not here.
"""

import datetime
from decimal import Decimal

import pytest

from codes.models import Code, CodeGroup, CodeHistory, ImportRun, Modifier, RvuLine

pytestmark = [pytest.mark.django_db, pytest.mark.realdata]


def test_hcpcs_2016_gives_5956_procedure_codes_and_337_modifiers(import_codes, real_data):
    output = import_codes("cms-hcpcs", real_data / "hcpcs/HCPC2016_CONTR_ANWEB.txt")

    codes = Code.objects.filter(system__slug="hcpcs")
    assert codes.count() == 5956
    assert Modifier.objects.count() == 337
    assert codes.filter(status="deleted").count() == 449  # a termination date in the file
    ambulance = codes.get(key="A0080")  # a first line and its continuation
    assert ambulance.long_descriptor.endswith(
        "provided by volunteer (individual or organization), with no vested interest"
    )
    assert ambulance.effective_date == datetime.date(1982, 1, 1)
    discontinued = codes.get(key="A7011")
    assert (discontinued.end_date, discontinued.action_code) == (datetime.date(2015, 12, 31), "D")
    assert CodeHistory.objects.filter(code=discontinued, action="deleted", year=2016).exists()
    assert "0 warning" not in output and "warning" not in output


def test_pfs_2023_gives_an_rvu_line_for_each_of_its_18010_rows(import_codes, real_data):
    import_codes("cms-pfs-rvu", real_data / "pfs/PPRRVU23_JAN.csv")

    assert RvuLine.objects.filter(edition="2023-JAN").count() == 18010  # and the end-of-file mark
    line = RvuLine.objects.get(code="64494", modifier="")
    assert (line.work_rvu, line.nonfacility_total, line.global_days) == (
        Decimal("1.00"),
        Decimal("2.70"),
        "ZZZ",
    )
    assert line.nonfacility_payment == Decimal("91.50")  # 2.70 x 33.8872
    assert RvuLine.objects.filter(modifier__in=["26", "TC", "53"]).count() == 2156
    cpt = Code.objects.filter(system__slug="cpt")
    assert cpt.count() == 10640
    assert cpt.get(key="64494").is_addon
    assert cpt.get(key="64494").short_descriptor == "Inj paravert f jnt l/s 2 lev"
    assert cpt.filter(is_addon=True).count() == len(
        set(
            RvuLine.objects.filter(global_days="ZZZ", code__regex=r"^\d{4}[0-9A-Z]$")
            .exclude(code__regex=r"^[A-V]\d{4}$")
            .values_list("code", flat=True)
        )
    )


def test_icd10cm_2026_gives_about_74000_billable_codes_with_the_tree(import_codes, real_data):
    output = import_codes("cdc-icd10cm-xml", real_data / "icd10cm/icd10cm-tabular-2026.xml")

    codes = Code.objects.filter(system__slug="icd10cm")
    billable = codes.filter(is_billable=True).count()
    assert 74_000 <= billable <= 75_000
    assert codes.count() > 95_000  # with the headers above the billable codes
    assert codes.get(key="M5450").long_descriptor == "Low back pain, unspecified"
    fracture = codes.get(key="S52501A")
    assert fracture.long_descriptor == (
        "Unspecified fracture of the lower end of right radius, initial encounter for closed "
        "fracture"
    )
    groups = CodeGroup.objects.filter(system__slug="icd10cm")
    assert groups.filter(kind="chapter").count() == 22
    assert groups.filter(kind="category").count() > 1900
    assert codes.get(key="M5450").group.parent.parent.slug == "chapter-13"
    run = ImportRun.objects.get(format="cdc-icd10cm-xml")
    assert run.added == codes.count()
    assert codes.get(key="QA00101").is_billable  # FY2026's QA0 category: a letter second
    assert "warning" not in output.lower()
