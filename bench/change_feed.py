"""What recording the change feed costs the largest import: the NCCI PTP edits of 2024 Q2
(v30.1, 2.5 million lines) imported over an earlier edition that differs from it in 1% of its
lines, once without recording the changes and once with, alternately, twice each. Each run
is rolled back, so every run starts from the same database. Target: recording adds at most
20% to the import.
"""

from __future__ import annotations

import gzip
import tempfile
import time
from pathlib import Path
from unittest import mock

from django.db import transaction

from bench.importers import _empty, real_data_dir
from codes.changes import changes_record_ncci
from codes.importers import ncci
from codes.importers.base import ImportOptions
from codes.importers.runner import import_bundle
from codes.models import CodeChange

NCCI_FILE = "ncci/ptp-practitioner-2024q2-v301r0.tsv.gz"
# The earlier edition's name makes it v30.0, in force from 2024-01-01.
EARLIER_NAME = "ptp-practitioner-v300r0-altered.tsv.gz"
ALTER_EVERY = 100  # 1% of the lines


class _RolledBack(Exception):
    pass


def _alter(source: Path, target: Path) -> int:
    """A copy of the file with every 100th line changed in one of three ways: the modifier
    indicator flipped, the deletion date moved (in force ↔ deleted), or the pair left out."""
    altered = 0
    with (
        gzip.open(source, "rt", encoding="utf-8") as lines,
        gzip.open(target, "wt", encoding="utf-8", compresslevel=1) as out,
    ):
        out.write(next(lines))
        for number, line in enumerate(lines):
            if number % ALTER_EVERY:
                out.write(line)
                continue
            altered += 1
            cells = line.split("\t")
            way = (number // ALTER_EVERY) % 3
            if way == 0:
                cells[5] = {"0": "1", "1": "0"}.get(cells[5], "0")
            elif way == 1:
                cells[4] = "20231231" if cells[4] == "*" else "*"
            else:
                continue  # left out of the earlier edition
            out.write("\t".join(cells))
    return altered


def _timed(path: Path, *, record: bool) -> tuple[float, float, int]:
    """The import's time, the recording statement's share of it, and the rows it wrote."""
    spent: list[float] = []

    def recording(**arguments) -> int:
        started = time.perf_counter()
        try:
            return changes_record_ncci(**arguments)
        finally:
            spent.append(time.perf_counter() - started)

    started = time.perf_counter()
    recorded = 0
    try:
        with transaction.atomic(), mock.patch.object(ncci, "changes_record_ncci", recording):
            outcome = import_bundle("cms-ncci-ptp", [path], ImportOptions(record_changes=record))
            seconds = time.perf_counter() - started
            recorded = CodeChange.objects.filter(run=outcome.run).count()
            raise _RolledBack
    except _RolledBack:
        pass
    return seconds, sum(spent), recorded


def run() -> None:
    folder = real_data_dir()
    if folder is None or not (folder / NCCI_FILE).exists():
        print("skipped: no real NCCI file (../shared/data or $CASEPILOT_REAL_DATA)")
        return
    path = folder / NCCI_FILE
    with tempfile.TemporaryDirectory() as scratch:
        earlier = Path(scratch) / EARLIER_NAME
        altered = _alter(path, earlier)
        _empty("cms-ncci-ptp", [])
        started = time.perf_counter()
        import_bundle("cms-ncci-ptp", [earlier], ImportOptions())
        print(
            f"earlier edition (v30.0, {altered:,} lines altered) imported in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        without, with_feed, recordings = [], [], []
        recorded = 0
        for record in (False, True, False, True):
            seconds, recording, count = _timed(path, record=record)
            (with_feed if record else without).append(seconds)
            if record:
                recordings.append(recording)
            recorded = max(recorded, count)
            label = "with the change feed" if record else "without          "
            share = f" (recording the changes: {recording:.2f} s)" if record else ""
            print(f"v30.1 over v30.0, {label}: {seconds:6.1f} s{share}", flush=True)
        best_without, best_with = min(without), min(with_feed)
        print(
            f"change feed: {recorded:,} changes recorded (one per code of each pair); "
            f"import {best_without:.1f} s without, {best_with:.1f} s with (best of 2 each): "
            f"ratio {best_with / best_without:.3f} (target at most 1.20)"
        )
        # On a shared machine the two imports' times move by more than the recording costs:
        # its own statement, timed inside the import, is the steadier figure.
        print(
            f"change feed: the recording statement took {min(recordings):.2f} s, "
            f"{min(recordings) / best_without:.1%} of the import without it"
        )
