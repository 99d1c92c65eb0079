from io import StringIO

import pytest
from django.core.management import call_command

from codes.importers.progress import ProgressFactory
from tests.codes.importers.conftest import SAMPLES


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_bar_is_redrawn_with_rate_and_time_left():
    clock, stream = Clock(), Terminal()
    progress = ProgressFactory(stream, clock=clock)("Reading", 1000, unit="lines")

    clock.now += 2
    progress.advance(250)
    progress.finish()

    first, last = stream.getvalue().split("\r")[1:3]
    assert first.startswith("Reading [#######---------------------]  25% 250/1,000 lines")
    assert "125 lines/s  0:06 left" in first
    assert "100% 1,000/1,000 lines" in last
    assert "done in 0:02" in last
    assert stream.getvalue().endswith("\n")


def test_off_a_terminal_plain_lines_come_every_few_seconds():
    clock, stream = Clock(), StringIO()
    progress = ProgressFactory(stream, clock=clock, plain_every=5)("Writing", 400, unit="rows")

    clock.now += 1
    progress.advance(100)  # too soon for a line
    clock.now += 4
    progress.advance(100)
    progress.finish()

    lines = stream.getvalue().splitlines()
    assert lines == [
        "Writing: 50% (200 of 400 rows, 40/s, about 0:05 left)",
        "Writing: 200 rows in 5.0 s",
    ]
    assert "\r" not in stream.getvalue()


def test_without_a_stream_nothing_is_printed():
    progress = ProgressFactory(None)("Reading", 10, unit="lines")

    progress.advance(10)
    progress.finish()

    assert progress.done == 10


@pytest.mark.django_db
def test_the_command_prints_plain_progress_lines_to_stderr_off_a_terminal():
    out, err = StringIO(), StringIO()
    call_command(
        "import_codes", "cms-hcpcs", str(SAMPLES / "HCPC2016_SAMPLE.txt"), stdout=out, stderr=err
    )

    assert "Reading: 13 lines in" in err.getvalue()
    assert "Writing: 5 codes in" in err.getvalue()
    assert "Reading" not in out.getvalue()


@pytest.mark.django_db
def test_verbosity_zero_silences_the_progress():
    err = StringIO()
    call_command(
        "import_codes",
        "cms-hcpcs",
        str(SAMPLES / "HCPC2016_SAMPLE.txt"),
        stdout=StringIO(),
        stderr=err,
        verbosity=0,
    )

    assert err.getvalue() == ""


@pytest.mark.django_db
def test_on_a_terminal_the_command_redraws_one_line_per_phase():
    err = Terminal()
    call_command(
        "import_codes",
        "cms-hcpcs",
        str(SAMPLES / "HCPC2016_SAMPLE.txt"),
        stdout=StringIO(),
        stderr=err,
    )

    phases = err.getvalue().split("\n")[:-1]
    assert [phase.rsplit("\r", 1)[-1].split(" [")[0] for phase in phases] == [
        "Reading",
        "Comparing",
        "Writing",
    ]
    assert all("\x1b[K" in phase for phase in phases)


def test_a_stream_of_unknown_length_shows_how_far_and_how_fast_without_a_total():
    clock, stream = Clock(), StringIO()
    progress = ProgressFactory(stream, clock=clock, plain_every=1)("Reading", 0, unit="lines")

    clock.now += 2
    progress.advance(40_000)

    assert stream.getvalue() == "Reading: 40,000 lines, 20,000/s\n"
