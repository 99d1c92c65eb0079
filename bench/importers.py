"""Importers at real scale: each public file in the shared data folder imported into an empty
bench database, then again unchanged. Prints the time of each run, the re-import speed-up,
the peak memory of the process that ran them (each file in a process of its own) and the rows
the import left; after the NCCI edits, the time of a pair look-up at full size.

Targets on the 2-core machine: ICD-10-CM under 60 s, PFS under 20 s, HCPCS under 10 s, and a
re-import at least 3x faster than the first; NCCI PTP (2.5 million edits) first import under
90 s, again under 30 s, under 1 GB peak memory, a pair look-up under 2 ms at the 95th
percentile.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import resource
import statistics
import time
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from codes.importers.base import ImportOptions
from codes.importers.runner import import_bundle
from codes.models import (
    Code,
    CodeGroup,
    EditEdition,
    ImportRun,
    Modifier,
    MueValue,
    NcciEdit,
    RvuLine,
)

REAL_FILES = [  # (format, path inside the data folder, code systems it fills)
    ("cms-hcpcs", "hcpcs/HCPC2016_CONTR_ANWEB.txt", ["hcpcs"]),
    ("cms-pfs-rvu", "pfs/PPRRVU23_JAN.csv", ["cpt"]),  # its HCPCS codes come from cms-hcpcs
    ("cdc-icd10cm-xml", "icd10cm/icd10cm-tabular-2026.xml", ["icd10cm"]),
    ("cms-ncci-ptp", "ncci/ptp-practitioner-2024q2-v301r0.tsv.gz", []),
    ("cms-mue", "mue/mue-practitioner-2024q2.csv", []),
    ("cms-mue", "mue/MCR_MUE_PractitionerServices_Eff_07-01-2026-excerpt.csv", []),
]
LOOKUPS = 2000
LOOKUP_DAY = datetime.date(2024, 6, 1)


def real_data_dir() -> Path | None:
    configured = os.environ.get("CASEPILOT_REAL_DATA")
    folder = Path(configured) if configured else Path(settings.BASE_DIR).parent / "shared/data"
    return folder if folder.is_dir() else None


@transaction.atomic
def _empty(format_name: str, systems: list[str]) -> None:
    """Back to a database that never saw this file, so the first run is a first import."""
    ImportRun.objects.filter(format=format_name).delete()
    if format_name == "cms-ncci-ptp":
        with connection.cursor() as cursor:  # a DELETE of 2.5 million rows would take minutes
            cursor.execute(f"TRUNCATE {NcciEdit._meta.db_table}")
        EditEdition.objects.filter(kind=EditEdition.Kind.NCCI_PTP).delete()
    if format_name == "cms-mue":
        MueValue.objects.all().delete()
        EditEdition.objects.filter(kind=EditEdition.Kind.MUE).delete()
    if format_name == "cms-pfs-rvu":
        RvuLine.objects.all().delete()
    Code.objects.filter(system__slug__in=systems).delete()
    CodeGroup.objects.filter(system__slug__in=systems).delete()
    if format_name == "cms-hcpcs":
        Modifier.objects.exclude(code__regex=r"^[0-9]+$").delete()


def _rows(format_name: str, systems: list[str]) -> str:
    if format_name == "cms-ncci-ptp":
        return f"{NcciEdit.objects.count():,} NCCI edits"
    if format_name == "cms-mue":
        return f"{MueValue.objects.count():,} MUE rows"
    codes = Code.objects.filter(system__slug__in=systems)
    parts = [f"{codes.count():,} codes ({codes.filter(is_billable=True).count():,} billable)"]
    if format_name == "cms-pfs-rvu":
        parts.append(f"{RvuLine.objects.count():,} RVU lines")
        parts.append(f"{codes.filter(is_addon=True).count():,} add-on codes")
    if format_name == "cms-hcpcs":
        parts.append(f"{Modifier.objects.count():,} modifiers")
    groups = CodeGroup.objects.filter(system__slug__in=systems).count()
    parts.append(f"{groups:,} groups")
    return ", ".join(parts)


def _import_twice(format_name: str, path: Path, systems: list[str]) -> str:
    """First and repeat import of one file, in this (forked) process; the report line."""
    _empty(format_name, systems)
    first = import_bundle(format_name, [path], ImportOptions())
    primary = first.importer.primary
    first_seconds, added = first.seconds, first.counts[primary].added
    del first  # the parsed file is not kept around while the second run works
    again = import_bundle(format_name, [path], ImportOptions())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = (
        f"{format_name:16} {path.name}: first {first_seconds:6.1f} s "
        f"({added:,} {primary} added), "
        f"again {again.seconds:5.1f} s ({again.counts[primary].changed:,} changed), "
        f"{first_seconds / again.seconds:4.1f}x faster; peak memory {peak:,.0f} MB; "
        f"{_rows(format_name, systems)}"
    )
    if format_name == "cms-ncci-ptp":
        line += "\n" + _lookups()
    return line


def _lookups() -> str:
    """Pair look-ups as the claim check makes them: two codes in either order, as of a date
    of service, at full size; pairs drawn from the table, half of them reversed."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT column1, column2 FROM {NcciEdit._meta.db_table} "
            "TABLESAMPLE SYSTEM (1) LIMIT %s",
            [LOOKUPS],
        )
        pairs = cursor.fetchall()
    timings = []
    for index, (first, second) in enumerate(pairs):
        if index % 2:
            first, second = second, first
        started = time.perf_counter()
        list(
            NcciEdit.objects.as_of(LOOKUP_DAY)
            .filter(Q(column1=first, column2=second) | Q(column1=second, column2=first))
            .values_list("column1", "column2", "modifier_indicator", "edition__label")
        )
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95)]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{'':16} pair look-up, either order, as of {LOOKUP_DAY} ({len(timings):,} pairs): "
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms (load average {load})"
    )


def _in_child(format_name: str, path: Path, systems: list[str], results) -> None:
    connection.close()  # the parent's connection is not shared with the child
    try:
        results.put(_import_twice(format_name, path, systems))
    except Exception as exc:  # reported by the parent, which carries on with the next file
        results.put(f"{format_name:16} {path.name}: failed ({exc})")


def run() -> None:
    folder = real_data_dir()
    if folder is None:
        print("skipped: no real data folder (../shared/data or $CASEPILOT_REAL_DATA)")
        return
    context = multiprocessing.get_context("fork")
    for format_name, relative, systems in REAL_FILES:
        path = folder / relative
        if not path.exists():
            print(f"{format_name}: skipped, {path} is missing")
            continue
        # Each file in a process of its own, so that its peak memory is its own.
        connection.close()
        results = context.Queue()
        child = context.Process(target=_in_child, args=(format_name, path, systems, results))
        child.start()
        line = results.get()
        child.join()
        print(line, flush=True)
