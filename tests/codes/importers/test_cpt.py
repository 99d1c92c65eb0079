import datetime
import shutil

import pytest
from django.core.management.base import CommandError

from codes.models import Code, CodeHistory, CodeSystem
from tests.codes.importers.conftest import SAMPLES
from tests.factories import make_code, make_group, make_system, make_user

pytestmark = pytest.mark.django_db

FIRST = SAMPLES / "cpt-2025"
NEWER = SAMPLES / "cpt-2026"


def cpt(key: str) -> Code:
    return Code.objects.select_related("group").get(system__slug="cpt", key=key)


def test_the_data_files_give_long_medium_short_and_consumer_descriptors(import_codes):
    output = import_codes("ama-cpt", FIRST)

    code = cpt("64493")
    assert code.long_descriptor.startswith("Sample: injection into one lumbar or sacral facet")
    assert code.medium_descriptor == "SAMPLE INJ LUMBAR/SACRAL FACET JOINT W/IMAGING FIRST LEVEL"
    assert code.short_descriptor == "SAMPLE INJ FACET L/S 1ST"
    assert code.consumer_descriptor.startswith("Sample: a shot of medicine")
    assert code.group.title == "Surgery"
    assert cpt("0213T").group.title == "Category III Codes"
    assert "codes: 4 added, 0 updated, 0 deleted, 0 unchanged" in output
    system = CodeSystem.objects.get(slug="cpt")
    assert (system.edition, system.copyright) == (
        "2025",
        "CPT® © Copyright 2024 American Medical Association. All rights reserved.",
    )


def test_list_separately_in_the_descriptor_marks_an_add_on_code(import_codes):
    import_codes("ama-cpt", FIRST)

    assert cpt("64494").is_addon
    assert not cpt("64493").is_addon


def test_the_files_can_be_named_one_by_one(import_codes):
    import_codes("ama-cpt", FIRST / "SHORTU.txt", FIRST / "LONGULT.txt")

    code = cpt("99213")
    assert code.short_descriptor == "SAMPLE OFFICE VISIT EST LOW"
    assert code.medium_descriptor == ""


def test_without_shortu_a_new_code_gets_a_cut_medium_or_long_descriptor(import_codes):
    import_codes("ama-cpt", FIRST / "LONGULT.txt")

    assert cpt("64493").short_descriptor.startswith("Sample: injection into one lumbar")
    assert len(cpt("64493").short_descriptor) <= 100


def test_a_code_keeps_a_finer_group_an_editor_gave_it(import_codes):
    system = make_system("cpt")
    family = make_group(
        system, title="Paravertebral facet joint injections", code_from="64490", code_to="64495"
    )
    make_code("64493", system=system, group=family)

    import_codes("ama-cpt", FIRST)

    assert cpt("64493").group == family


def test_a_newer_edition_adds_revises_and_retires_codes_with_history(import_codes):
    import_codes("ama-cpt", FIRST)

    output = import_codes("ama-cpt", NEWER)

    retired = cpt("0213T")
    assert (retired.status, retired.end_date) == ("deleted", datetime.date(2025, 12, 31))
    assert "fluoroscopic or CT guidance" in cpt("64493").long_descriptor
    assert cpt("64495").is_addon
    events = set(CodeHistory.objects.values_list("code__code", "year", "action"))
    assert events == {
        ("0213T", 2026, "deleted"),
        ("64493", 2026, "revised"),
        ("64495", 2026, "added"),
    }
    assert "codes: 1 added, 1 updated, 1 deleted, 2 unchanged" in output


def test_importing_the_same_files_twice_changes_nothing(import_codes):
    import_codes("ama-cpt", FIRST)

    output = import_codes("ama-cpt", FIRST)

    assert "codes: 0 added, 0 updated, 0 deleted, 4 unchanged" in output


def test_the_edition_comes_from_the_option_when_names_do_not_tell(import_codes, tmp_path):
    folder = tmp_path / "cpt-files"
    shutil.copytree(FIRST, folder)

    with pytest.raises(CommandError, match="cannot tell the CPT edition.*--edition"):
        import_codes("ama-cpt", folder)
    import_codes("ama-cpt", folder, edition="2027")

    assert CodeSystem.objects.get(slug="cpt").edition == "2027"


def test_a_code_missing_from_longult_is_a_warning_or_with_strict_an_error(import_codes, tmp_path):
    folder = tmp_path / "cpt-2025"
    shutil.copytree(FIRST, folder)
    with (folder / "SHORTU.txt").open("a") as short:
        short.write("99999 SAMPLE UNLISTED\r\n")

    output = import_codes("ama-cpt", folder)
    assert "SHORTU.txt: 99999 is not in LONGULT.txt; skipped" in output
    assert not Code.objects.filter(key="99999").exists()

    with pytest.raises(CommandError, match="99999 is not in LONGULT.txt.*--strict"):
        import_codes("ama-cpt", folder, strict=True)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "LONGULT.txt",
            "64493\tfine\r\n64494 no tab here\r\n",
            "LONGULT.txt, line 2: expected code<TAB>",
        ),
        (
            "LONGULT.txt",
            "64493\tfine\r\n6449\tshort code\r\n",
            "LONGULT.txt, line 2: expected code<TAB>",
        ),
        (
            "LONGULT.txt",
            "64493\tfine\r\n6449!\tbad\r\n",
            "line 2, field code: '6449!' is not a CPT",
        ),
        ("LONGULT.txt", "64493\t\r\n", "line 1, field descriptor: 64493 has no descriptor"),
        ("LONGULT.txt", "A list of procedures\r\n", "no CPT code lines found"),
        ("ConsumerDescriptor.txt", "Concept\tCode\tText\r\n", "header must be Concept Id"),
        (
            "ConsumerDescriptor.txt",
            "Concept Id\tCPT Code\tConsumer Friendly Descriptor\r\nx1\t64493\tx\r\n",
            "line 2, field Concept Id: 'x1' is not a concept id",
        ),
    ],
)
def test_a_broken_file_is_an_error_naming_its_line(import_codes, tmp_path, name, text, message):
    folder = tmp_path / "cpt-2025"
    shutil.copytree(FIRST, folder)
    (folder / name).write_text(text, encoding="utf-8")

    with pytest.raises(CommandError, match=message):
        import_codes("ama-cpt", folder)
    assert not Code.objects.exists()


def test_without_longult_nothing_is_imported(import_codes):
    with pytest.raises(CommandError, match="exactly one LONGULT.txt"):
        import_codes("ama-cpt", FIRST / "MEDU.txt")


def test_an_imported_code_shows_on_its_page_with_a_note_that_no_plain_text_exists_yet(
    import_codes, client
):
    import_codes("ama-cpt", FIRST)
    import_codes("cms-pfs-rvu", SAMPLES / "PPRRVU25_JAN_SAMPLE.csv")

    response = client.get("/cpt/64494/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "SAMPLE INJ FACET L/S 2ND" in html
    assert "the same lumbar or sacral facet injection at a second level" in html
    assert "Add-on code" in html
    assert "No plain-language description has been written for this code yet." in html
    assert "© Copyright 2024 American Medical Association" in html


def test_a_signed_in_coder_sees_the_imported_rvus_and_payment(import_codes, client):
    import_codes("ama-cpt", FIRST)
    import_codes("cms-pfs-rvu", SAMPLES / "PPRRVU25_JAN_SAMPLE.csv")
    client.force_login(make_user())

    html = client.get("/cpt/64494/").content.decode()

    assert "Medicare Physician Fee Schedule 2025, 2025-JAN release" in html
    assert "2.70 × 32.3465 = <strong>$87.34</strong>" in html
