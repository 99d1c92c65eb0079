"""Running `import_codes` in tests, and where the sample and real files are."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from bench.importers import real_data_dir

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def import_codes():
    """Runs the command like a person would and returns what it printed on stdout."""

    def run(format_name: str, *files: Path | str, **options: object) -> str:
        out, err = StringIO(), StringIO()
        call_command(
            "import_codes",
            format_name,
            *(str(f) for f in files),
            stdout=out,
            stderr=err,
            **options,
        )
        return out.getvalue()

    return run


@pytest.fixture
def real_data() -> Path:
    folder = real_data_dir()
    if folder is None:
        pytest.skip("no real data folder: ../shared/data beside the repo, or $CASEPILOT_REAL_DATA")
    return folder


def write_variant(tmp_path: Path, sample: str, edit, *, name: str | None = None) -> Path:
    """A copy of a sample file changed by `edit` (bytes -> bytes), under a name of its own."""
    target = tmp_path / (name or sample)
    target.write_bytes(edit((SAMPLES / sample).read_bytes()))
    return target
