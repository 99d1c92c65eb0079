import datetime

import pytest
from django.core.management.base import CommandError

from codes.models import Code, CodeGroup, CodeHistory, CodeSystem, Guideline
from tests.codes.importers.conftest import SAMPLES, write_variant

pytestmark = pytest.mark.django_db

FIRST = SAMPLES / "icd10cm-tabular-2025-sample.xml"
NEWER = SAMPLES / "icd10cm-tabular-2026-sample.xml"


def icd(code: str) -> Code:
    return Code.objects.select_related("group").get(
        system__slug="icd10cm", key=code.replace(".", "")
    )


def test_chapters_sections_and_categories_become_the_group_tree(import_codes):
    import_codes("cdc-icd10cm-xml", FIRST)

    chapter = CodeGroup.objects.get(slug="chapter-13")
    assert chapter.title == "Diseases of the musculoskeletal system and connective tissue"
    assert (chapter.kind, chapter.code_from, chapter.code_to) == ("chapter", "M00", "M99")
    section = CodeGroup.objects.get(slug="m50-m54")
    assert (section.title, section.parent, section.kind) == (
        "Other dorsopathies",
        chapter,
        "section",
    )
    category = CodeGroup.objects.get(slug="m54")
    assert (category.parent, category.kind, category.title) == (section, "category", "Dorsalgia")
    assert category.range_label == "M54–M54.59"
    assert category.notes["excludes1"] == [
        "sample exclusion: pain that comes from the mind (F45.41)"
    ]
    assert CodeGroup.objects.filter(system__slug="icd10cm").count() == 11
    assert icd("M54.50").group == category


def test_the_seventh_character_tables_make_the_billable_codes(import_codes):
    import_codes("cdc-icd10cm-xml", FIRST)

    expanded = icd("S52.501A")
    assert expanded.is_billable
    assert expanded.long_descriptor == (
        "Unspecified fracture of the lower end of right radius, initial encounter for closed "
        "fracture"
    )
    assert expanded.notes["seventh_character"] == {
        "char": "A",
        "meaning": "initial encounter for closed fracture",
    }
    assert not icd("S52.501").is_billable  # needs its 7th character
    assert icd("S52.9XXD").is_billable  # placeholder X up to six characters
    assert icd("T07.XXXS").long_descriptor == "Unspecified multiple injuries, sequela"
    assert icd("A33").is_billable  # a category with nothing below it
    assert not icd("M54.5").is_billable
    codes = Code.objects.filter(system__slug="icd10cm")
    assert (codes.count(), codes.filter(is_billable=True).count()) == (24, 15)


def test_notes_stay_with_the_code_or_group_that_carries_them(import_codes):
    import_codes("cdc-icd10cm-xml", FIRST)

    assert icd("M54.5").notes == {"inclusion_terms": ["Sample loin pain"]}
    fracture = CodeGroup.objects.get(slug="s52")
    assert fracture.notes["seventh_characters"][1] == {
        "char": "D",
        "meaning": "subsequent encounter for closed fracture with routine healing",
    }
    assert fracture.notes["seventh_character_note"][0].startswith("Sample: one of these")
    assert CodeGroup.objects.get(slug="chapter-01").notes == {
        "includes": ["sample note: diseases that spread from person to person"]
    }


def test_the_code_system_record_is_created_with_its_edition(import_codes):
    import_codes("cdc-icd10cm-xml", FIRST)

    system = CodeSystem.objects.get(slug="icd10cm")
    assert (system.short_name, system.edition) == ("ICD-10-CM", "FY2025")
    assert "public domain" in system.copyright


def test_an_existing_system_keeps_its_copyright_text(import_codes):
    CodeSystem.objects.create(
        slug="icd10cm",
        name="ICD-10-CM",
        short_name="ICD-10-CM",
        publisher="CDC",
        edition="2024",
        copyright="Our own wording of the notice.",
    )

    import_codes("cdc-icd10cm-xml", FIRST)

    system = CodeSystem.objects.get(slug="icd10cm")
    assert (system.copyright, system.edition) == ("Our own wording of the notice.", "FY2025")


def test_importing_the_same_file_twice_changes_nothing(import_codes):
    import_codes("cdc-icd10cm-xml", FIRST)
    stamps = dict(Code.objects.values_list("key", "updated_at"))

    output = import_codes("cdc-icd10cm-xml", FIRST)

    assert "codes: 0 added, 0 updated, 0 deleted, 24 unchanged" in output
    assert "groups: 0 added, 0 updated, 0 deleted, 11 unchanged" in output
    assert dict(Code.objects.values_list("key", "updated_at")) == stamps
    assert not CodeHistory.objects.exists()


def test_a_newer_edition_adds_revises_and_retires_codes_with_history(import_codes):
    import_codes("cdc-icd10cm-xml", FIRST)

    output = import_codes("cdc-icd10cm-xml", NEWER)

    gone = icd("M54.59")
    assert (gone.status, gone.end_date) == ("deleted", datetime.date(2025, 9, 30))
    assert icd("M54.51").long_descriptor == "Vertebrogenic low back pain, lumbar"
    assert icd("M54.52").status == "active"
    events = set(CodeHistory.objects.values_list("code__code", "year", "action", "source"))
    assert events == {
        ("M54.59", 2026, "deleted", "cdc-icd10cm-xml"),
        ("M54.51", 2026, "revised", "cdc-icd10cm-xml"),
        ("M54.52", 2026, "added", "cdc-icd10cm-xml"),
    }
    revised = CodeHistory.objects.get(action="revised")
    assert revised.note == "Official descriptor revised. Before: Vertebrogenic low back pain"
    assert "codes: 1 added, 1 updated, 1 deleted, 22 unchanged" in output
    assert CodeSystem.objects.get(slug="icd10cm").edition == "FY2026"


def test_editor_text_survives_a_newer_edition(import_codes):
    import_codes("cdc-icd10cm-xml", FIRST)
    Code.objects.filter(key="M5451").update(plain_language="Our explanation of this pain.")
    Guideline.objects.create(code=icd("M54.51"), title="Our tip", body="Check the imaging.")

    import_codes("cdc-icd10cm-xml", NEWER)

    code = icd("M54.51")
    assert code.long_descriptor == "Vertebrogenic low back pain, lumbar"
    assert code.plain_language == "Our explanation of this pain."
    assert code.guidelines.get().body == "Check the imaging."


def test_an_older_edition_after_a_newer_one_only_adds_what_is_missing(import_codes):
    import_codes("cdc-icd10cm-xml", NEWER)

    output = import_codes("cdc-icd10cm-xml", FIRST)

    assert icd("M54.51").long_descriptor == "Vertebrogenic low back pain, lumbar"
    assert icd("M54.52").status == "active"
    assert icd("M54.59").status == "active"  # only in the older file: added, nothing retired
    assert "older than the loaded FY2026" in output


@pytest.mark.parametrize(
    ("find", "replace", "message"),
    [
        (
            b"<name>M54.51</name>",
            b"<name>M54.51</nam>",
            r"line 48: not well-formed XML at column \d+ \(mismatched tag\)",
        ),
        (
            b"<name>M54.51</name>",
            b"<name>M5$.51</name>",
            "line 48, field name: 'M5\\$.51' is not an ICD-10-CM code",
        ),
        (
            b'char="D"',
            b'char="DD"',
            "line 72, field extension char: 7th character 'DD' of S52 is not one letter or digit",
        ),
        (
            b"<desc>Other low back pain</desc>",
            b"<desc></desc>",
            "line 52, field desc: M54.59 has no <desc>",
        ),
        (b"Vertebrogenic", b"Vertebrog\xe9nic", "line 49: not well-formed XML"),
        (b"ICD10CM.tabular>", b"ICD9CM.tabular>", "not <ICD10CM.tabular>"),
    ],
)
def test_a_broken_file_is_an_error_naming_the_line(import_codes, tmp_path, find, replace, message):
    broken = write_variant(tmp_path, FIRST.name, lambda data: data.replace(find, replace))

    with pytest.raises(CommandError, match=message):
        import_codes("cdc-icd10cm-xml", broken)
    assert not Code.objects.exists()
    assert not CodeGroup.objects.exists()
