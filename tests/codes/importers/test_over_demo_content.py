"""Importing official files into a site that already carries the demo content (`make run`)."""

import pytest
from django.core.management import call_command

from codes.models import Code, CodeGroup, CodeSystem, Modifier
from tests.codes.importers.conftest import SAMPLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    call_command("load_demo", stdout=None)


def test_icd_import_reuses_the_demo_chapters_and_keeps_the_plain_language(demo, import_codes):
    plain = Code.objects.get(system__slug="icd10cm", key="M5450").plain_language
    assert plain

    import_codes("cdc-icd10cm-xml", SAMPLES / "icd10cm-tabular-2025-sample.xml")

    low_back = Code.objects.select_related("group").get(system__slug="icd10cm", key="M5450")
    assert low_back.plain_language == plain
    assert low_back.group.slug == "m54"
    assert CodeGroup.objects.filter(system__slug="icd10cm", slug="chapter-13").count() == 1
    chapters = CodeGroup.objects.filter(system__slug="icd10cm", kind="chapter")
    assert sorted(chapters.values_list("slug", flat=True)) == [
        "chapter-01",
        "chapter-04",
        "chapter-06",
        "chapter-09",
        "chapter-13",
        "chapter-19",
        "chapter-21",
    ]


def test_an_older_hcpcs_edition_only_adds_what_the_demo_lacks(demo, import_codes):
    copyright_line = CodeSystem.objects.get(slug="hcpcs").copyright
    descriptor = Code.objects.get(system__slug="hcpcs", key="J1100").long_descriptor
    left = Modifier.objects.get(code="LT").long_descriptor

    output = import_codes("cms-hcpcs", SAMPLES / "HCPC2016_SAMPLE.txt")

    assert "edition 2016 is older than the loaded 2026" in output
    drug = Code.objects.select_related("group").get(system__slug="hcpcs", key="J1100")
    assert drug.group.slug == "drugs-administered-by-injection"
    assert drug.long_descriptor == descriptor
    assert Modifier.objects.get(code="LT").long_descriptor == left
    assert Modifier.objects.get(code="AA").short_descriptor == "Sample anesthesia personally"
    assert CodeGroup.objects.filter(system__slug="hcpcs", slug="j-codes").count() == 1
    new = Code.objects.select_related("group").get(system__slug="hcpcs", key="K0001")
    assert new.group.slug == "k-codes"
    assert CodeSystem.objects.get(slug="hcpcs").copyright == copyright_line


def test_cpt_import_keeps_the_demo_family_and_copyright(demo, import_codes):
    system = CodeSystem.objects.get(slug="cpt")

    import_codes("ama-cpt", SAMPLES / "cpt-2026")

    facet = Code.objects.select_related("group").get(system__slug="cpt", key="64494")
    assert facet.group.slug == "facet-joint-injections"
    assert facet.short_descriptor == "SAMPLE INJ FACET L/S 2ND"
    assert facet.plain_language  # the demo's own words stay
    assert CodeSystem.objects.get(slug="cpt").copyright == system.copyright
    assert CodeGroup.objects.filter(system__slug="cpt", slug="surgery").count() == 1
