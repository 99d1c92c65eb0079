"""What `import_codes` promises for every format: dry runs, all-or-nothing files, a record of
each run, warnings, and clear errors for files that cannot be read."""

import hashlib

import pytest
from django.core.management import ManagementUtility
from django.core.management.base import CommandError
from django.db import DataError

from codes.importers import bulk, hcpcs
from codes.models import Code, CodeGroup, CodeHistory, CodeSystem, ImportRun, Modifier
from tests.codes.importers.conftest import SAMPLES, write_variant

pytestmark = pytest.mark.django_db

HCPCS = SAMPLES / "HCPC2016_SAMPLE.txt"
ICD = SAMPLES / "icd10cm-tabular-2025-sample.xml"


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Code, CodeGroup, CodeHistory, CodeSystem, ImportRun, Modifier)
    }


def test_a_dry_run_reports_the_changes_and_writes_nothing(import_codes):
    before = row_counts()

    output = import_codes("cms-hcpcs", HCPCS, dry_run=True)

    assert row_counts() == before
    assert "Dry run: nothing will be written." in output
    assert "codes: 5 added, 0 updated, 0 deleted, 0 unchanged" in output
    assert "history entries: 7 would be added" in output
    assert "Checked in" in output


def test_a_dry_run_of_a_newer_edition_counts_what_it_would_change(import_codes):
    import_codes("cdc-icd10cm-xml", ICD)
    before = row_counts()
    descriptors = dict(Code.objects.values_list("key", "long_descriptor"))

    output = import_codes(
        "cdc-icd10cm-xml", SAMPLES / "icd10cm-tabular-2026-sample.xml", dry_run=True
    )

    assert "codes: 1 added, 1 updated, 1 deleted, 22 unchanged" in output
    assert row_counts() == before
    assert dict(Code.objects.values_list("key", "long_descriptor")) == descriptors


def test_an_error_while_writing_leaves_the_database_as_it_was(import_codes, monkeypatch):
    import_codes("cdc-icd10cm-xml", ICD)
    before = row_counts()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # Codes and history are written by then; the modifiers step fails.
    monkeypatch.setattr(hcpcs.HcpcsImporter, "_sync_modifiers", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_codes("cms-hcpcs", HCPCS)

    assert row_counts() == before
    assert not Code.objects.filter(system__slug="hcpcs").exists()


def test_a_bad_line_at_the_end_of_a_file_writes_nothing_from_it(import_codes, tmp_path):
    broken = write_variant(tmp_path, HCPCS.name, lambda data: data.rstrip() + b"\r\nA9\r\n")
    before = row_counts()

    with pytest.raises(CommandError, match="line 13"):
        import_codes("cms-hcpcs", broken)

    assert row_counts() == before


def test_a_database_refusal_is_a_clear_error_and_nothing_is_written(import_codes, monkeypatch):
    before = row_counts()

    def refuse(*args, **kwargs):
        raise DataError("value too long for type character varying(10)\n")

    monkeypatch.setattr(bulk, "insert_rows", refuse)
    with pytest.raises(
        CommandError,
        match=r"HCPC2016_SAMPLE.txt: the database refused the data "
        r"\(value too long for type character varying\(10\)\)",
    ):
        import_codes("cms-hcpcs", HCPCS)

    assert row_counts() == before


def test_each_run_is_recorded_with_its_checksum_counts_and_warnings(import_codes, tmp_path):
    twice = write_variant(
        tmp_path, HCPCS.name, lambda data: data.rstrip() + b"\r\n" + data.split(b"\r\n")[0]
    )

    output = import_codes("cms-hcpcs", twice)

    run = ImportRun.objects.get()
    assert (run.format, run.filename) == ("cms-hcpcs", "HCPC2016_SAMPLE.txt")
    assert run.sha256 == hashlib.sha256(twice.read_bytes()).hexdigest()
    assert (run.added, run.updated, run.deleted, run.unchanged) == (5, 0, 0, 0)
    assert run.finished_at >= run.started_at
    assert run.warnings == [
        "HCPC2016_SAMPLE.txt, line 13, field HCPCS code: A0100 appears again (first on line 1); "
        "the later record wins"
    ]
    assert "1 warning(s):" in output


def test_strict_stops_at_the_first_warning_and_writes_nothing(import_codes, tmp_path):
    twice = write_variant(
        tmp_path, HCPCS.name, lambda data: data.rstrip() + b"\r\n" + data.split(b"\r\n")[0]
    )

    with pytest.raises(CommandError, match="line 13, field HCPCS code: A0100 appears again"):
        import_codes("cms-hcpcs", twice, strict=True)

    assert not Code.objects.exists()
    assert not ImportRun.objects.exists()


def test_a_dry_run_is_not_recorded(import_codes):
    import_codes("cms-hcpcs", HCPCS, dry_run=True)

    assert not ImportRun.objects.exists()


def test_a_file_that_is_not_utf8_is_read_as_windows_1252_without_flags(import_codes, tmp_path):
    cms = write_variant(
        tmp_path,
        HCPCS.name,
        lambda data: data.replace(b"Sample cane of any", b"Sample can\xe9 of any"),
    )

    output = import_codes("cms-hcpcs", cms)

    assert "read as Windows-1252" in output
    assert Code.objects.get(key="E0100").long_descriptor.startswith("Sample cané of any")


def test_a_utf8_file_is_read_as_utf8(import_codes, tmp_path):
    utf8 = write_variant(
        tmp_path,
        HCPCS.name,
        lambda data: data.replace(b"Sample cane of any", "Sample cané of any".encode()),
    )

    output = import_codes("cms-hcpcs", utf8)

    assert "read as" not in output
    assert Code.objects.get(key="E0100").long_descriptor.startswith("Sample cané of any")


def test_bytes_not_in_the_named_encoding_are_an_error_naming_line_and_column(
    import_codes, tmp_path
):
    latin = write_variant(
        tmp_path,
        HCPCS.name,
        lambda data: data.replace(b"Sample cane of any", b"Sample can\xe9 of any"),
    )

    with pytest.raises(CommandError, match=r"line 4: byte 0xe9 at column 22 is not valid utf-8"):
        import_codes("cms-hcpcs", latin, encoding="utf-8")
    assert not Code.objects.exists()


def test_a_nul_byte_is_an_error(import_codes, tmp_path):
    nul = write_variant(
        tmp_path,
        "ccipra-v311r0-f1.txt",
        lambda data: data.replace(b"Sample: standard", b"Sample:\x00standard"),
    )

    with pytest.raises(CommandError, match="line 6: NUL character at column"):
        import_codes("cms-ncci-ptp", nul)


def test_a_missing_file_is_an_error(import_codes, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        import_codes("cms-hcpcs", tmp_path / "HCPC2016.txt")


def test_an_unknown_encoding_is_an_error(import_codes):
    with pytest.raises(CommandError, match="Unknown encoding 'klingon'"):
        import_codes("cms-hcpcs", HCPCS, encoding="klingon")


def test_a_bad_effective_date_option_is_an_error(import_codes):
    with pytest.raises(CommandError, match="--effective '2025-13-01' is not a date"):
        import_codes(
            "cms-mue",
            SAMPLES / "MCR_MUE_PractitionerServices_Eff_01-01-2025.csv",
            effective="2025-13-01",
        )


def test_files_after_a_broken_one_are_not_imported_and_earlier_ones_stay(import_codes, tmp_path):
    broken = write_variant(
        tmp_path, "ccipra-v311r0-f1.txt", lambda data: data.replace(b"\t0\t", b"\t7\t")
    )
    good = SAMPLES / "ccipra-v311r0-f1.txt"

    with pytest.raises(CommandError, match="1 earlier file\\(s\\) were imported"):
        import_codes("cms-ncci-ptp", good, broken, good)

    assert ImportRun.objects.count() == 1


def test_the_command_exits_non_zero_with_the_message_on_stderr(tmp_path, capsys):
    broken = tmp_path / "HCPC2016.txt"
    broken.write_text("not a record\n")

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "import_codes", "cms-hcpcs", str(broken)]).execute()

    assert exit_info.value.code == 1
    error = capsys.readouterr().err
    assert "HCPC2016.txt, line 1, field record identification code" in error
    assert "Traceback" not in error


@pytest.mark.parametrize(
    ("format_name", "name", "message"),
    [
        ("cms-hcpcs", "HCPC2016.txt", "no HCPCS records found"),
        ("cdc-icd10cm-xml", "icd10cm.xml", "line 1: not well-formed XML"),
        ("cms-pfs-rvu", "PPRRVU25_JAN.csv", "no header row starting HCPCS,MOD"),
        ("ama-cpt", "LONGULT.txt", "no CPT code lines found"),
        ("cms-ncci-ptp", "ccipra-v311r0-f1.txt", "no edit lines found"),
        ("cms-mue", "mue_practitioner.csv", "no header row"),
    ],
)
def test_an_empty_file_is_an_error_in_every_format(
    import_codes, tmp_path, format_name, name, message
):
    empty = tmp_path / "2025" / name
    empty.parent.mkdir()
    empty.write_bytes(b"")

    with pytest.raises(CommandError, match=message):
        import_codes(format_name, empty)
