import datetime

import pytest
from django.core.management.base import CommandError

from codes.models import Code, CodeHistory, Modifier
from tests.codes.importers.conftest import SAMPLES, write_variant

pytestmark = pytest.mark.django_db

FIRST = SAMPLES / "HCPC2016_SAMPLE.txt"
NEWER = SAMPLES / "HCPC2017_SAMPLE.txt"


def hcpcs(key: str) -> Code:
    return Code.objects.select_related("group").get(system__slug="hcpcs", key=key)


def history(key: str) -> set[tuple[int, str]]:
    return set(CodeHistory.objects.filter(code__key=key).values_list("year", "action"))


def test_procedure_records_become_codes_with_continuation_lines_joined(import_codes):
    import_codes("cms-hcpcs", FIRST)

    code = hcpcs("J1100")
    assert code.long_descriptor == (
        "Sample injection of an anti-inflammatory steroid solution for intramuscular or "
        "intravenous use, by the amount given, each one milligram"
    )
    assert code.short_descriptor == "Sample steroid injection"
    assert code.effective_date == datetime.date(1990, 1, 1)
    assert code.status == Code.Status.ACTIVE
    assert code.group.title == "J codes: drugs administered other than oral method"
    assert Code.objects.filter(system__slug="hcpcs").count() == 5


def test_a_termination_date_marks_the_code_deleted_with_that_date(import_codes):
    import_codes("cms-hcpcs", FIRST)

    code = hcpcs("K0001")
    assert code.status == Code.Status.DELETED
    assert code.end_date == datetime.date(2015, 12, 31)
    assert (code.action_code, code.action_date) == ("D", datetime.date(2016, 1, 1))
    deleted = CodeHistory.objects.get(code=code, action="deleted")
    assert (deleted.year, deleted.date, deleted.source) == (
        2016,
        datetime.date(2015, 12, 31),
        "cms-hcpcs",
    )


def test_action_codes_and_added_dates_become_history(import_codes):
    import_codes("cms-hcpcs", FIRST)

    assert history("E0100") == {(2016, "added")}
    assert history("A0130") == {(1986, "added"), (2016, "revised")}
    assert hcpcs("A0130").action_code == "C"


def test_modifier_records_become_modifiers_with_their_continuations(import_codes):
    import_codes("cms-hcpcs", FIRST)

    anesthesia = Modifier.objects.get(code="AA")
    assert anesthesia.long_descriptor == (
        "Sample anesthesia services performed personally by the anesthesiologist"
    )
    assert anesthesia.short_descriptor == "Sample anesthesia personally"
    assert anesthesia.effective_date == datetime.date(1992, 1, 1)
    assert Modifier.objects.get(code="LT").status == Code.Status.ACTIVE


def test_importing_the_same_file_twice_changes_nothing(import_codes):
    import_codes("cms-hcpcs", FIRST)
    stamps = dict(Code.objects.values_list("key", "updated_at"))
    rows = CodeHistory.objects.count()

    output = import_codes("cms-hcpcs", FIRST)

    assert "codes: 0 added, 0 updated, 0 deleted, 5 unchanged" in output
    assert "modifiers: 0 added, 0 updated, 0 deleted, 2 unchanged" in output
    assert dict(Code.objects.values_list("key", "updated_at")) == stamps
    assert CodeHistory.objects.count() == rows


def test_a_newer_edition_revises_adds_and_retires_codes(import_codes):
    import_codes("cms-hcpcs", FIRST)

    output = import_codes("cms-hcpcs", NEWER)

    taxi = hcpcs("A0100")
    assert taxi.short_descriptor == "Sample taxi trip"
    assert taxi.long_descriptor == "Sample nonemergency transport by taxi, per trip"
    assert (2017, "revised") in history("A0100")
    gone = hcpcs("J1100")  # not in the 2017 file: kept, marked deleted the day before
    assert (gone.status, gone.end_date) == (Code.Status.DELETED, datetime.date(2016, 12, 31))
    assert (2017, "deleted") in history("J1100")
    assert hcpcs("G0500").status == Code.Status.ACTIVE
    assert (2017, "added") in history("G0500")
    assert Modifier.objects.get(code="LT").status == Code.Status.DELETED
    # A0100's descriptors changed; A0130 and E0100 carry a new action code (N for no change)
    assert "codes: 1 added, 3 updated, 1 deleted, 1 unchanged" in output
    assert hcpcs("E0100").action_code == "N"


def test_a_newer_edition_keeps_the_text_editors_wrote(import_codes):
    import_codes("cms-hcpcs", FIRST)
    Code.objects.filter(key="A0100").update(plain_language="Our words about taxi rides.")
    Modifier.objects.filter(code="AA").update(note="Our note on AA.")

    import_codes("cms-hcpcs", NEWER)

    assert hcpcs("A0100").plain_language == "Our words about taxi rides."
    assert Modifier.objects.get(code="AA").note == "Our note on AA."


def _replace_line(number: int, new: bytes):
    def edit(data: bytes) -> bytes:
        lines = data.split(b"\r\n")
        lines[number - 1] = new
        return b"\r\n".join(lines)

    return edit


def _line(number: int) -> bytes:
    return FIRST.read_bytes().split(b"\r\n")[number - 1]


@pytest.mark.parametrize(
    ("number", "new_line", "message"),
    [
        (4, _line(4)[:200], "HCPC2016_SAMPLE.txt, line 4: truncated record: 200 characters"),
        (
            4,
            _line(4)[:10] + b"5" + _line(4)[11:],
            "line 4, field record identification code: unknown record type '5'",
        ),
        (
            4,
            _line(4)[:284] + b"20151341" + _line(4)[292:],
            "line 4, field termination date: '20151341' is not a real date",
        ),
        (
            4,
            _line(4)[:5] + b"00A00" + _line(4)[10:],
            "line 4, field sequence number: '00A00' is not a number",
        ),
        (
            3,
            b"E0999" + _line(3)[5:],
            "line 3, field record identification code: continuation of E0999 does not follow",
        ),
        (4, _line(4)[:292] + b"Z" + _line(4)[293:], "line 4, field action code: unknown action"),
        (4, _line(4) + b"X" * 5, "line 4: 325 characters, but records are 320 long"),
        (4, b"Q12X" + _line(4)[4:], "line 4, field HCPCS code: 'Q12X0' is not a HCPCS Level II"),
    ],
)
def test_a_bad_line_is_an_error_naming_the_file_line_and_field(
    import_codes, tmp_path, number, new_line, message
):
    broken = write_variant(tmp_path, FIRST.name, _replace_line(number, new_line))

    with pytest.raises(CommandError, match=message):
        import_codes("cms-hcpcs", broken)
    assert not Code.objects.exists()


def test_a_file_of_another_format_is_refused(import_codes):
    with pytest.raises(CommandError, match="PPRRVU25_JAN_SAMPLE.csv, line 1, .*not the HCPCS"):
        import_codes("cms-hcpcs", SAMPLES / "PPRRVU25_JAN_SAMPLE.csv")
