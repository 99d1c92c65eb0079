"""Importers at real scale: each public file in the shared data folder imported into an empty
bench database, then again unchanged. Prints the time of each run, the re-import speed-up and
the rows the import left.

Targets on the 2-core machine: ICD-10-CM under 60 s, PFS under 20 s, HCPCS under 10 s, and a
re-import at least 3x faster than the first.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.db import transaction

from codes.importers.base import ImportOptions
from codes.importers.runner import import_bundle
from codes.models import Code, CodeGroup, ImportRun, Modifier, RvuLine

REAL_FILES = [  # (format, path inside the data folder, code systems it fills)
    ("cms-hcpcs", "hcpcs/HCPC2016_CONTR_ANWEB.txt", ["hcpcs"]),
    ("cms-pfs-rvu", "pfs/PPRRVU23_JAN.csv", ["cpt"]),  # its HCPCS codes come from cms-hcpcs
    ("cdc-icd10cm-xml", "icd10cm/icd10cm-tabular-2026.xml", ["icd10cm"]),
]


def real_data_dir() -> Path | None:
    configured = os.environ.get("CASEPILOT_REAL_DATA")
    folder = Path(configured) if configured else Path(settings.BASE_DIR).parent / "shared/data"
    return folder if folder.is_dir() else None


@transaction.atomic
def _empty(format_name: str, systems: list[str]) -> None:
    """Back to a database that never saw this file, so the first run is a first import."""
    ImportRun.objects.filter(format=format_name).delete()
    if format_name == "cms-pfs-rvu":
        RvuLine.objects.all().delete()
    Code.objects.filter(system__slug__in=systems).delete()
    CodeGroup.objects.filter(system__slug__in=systems).delete()
    if format_name == "cms-hcpcs":
        Modifier.objects.exclude(code__regex=r"^[0-9]+$").delete()


def _rows(format_name: str, systems: list[str]) -> str:
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


def run() -> None:
    folder = real_data_dir()
    if folder is None:
        print("skipped: no real data folder (../shared/data or $CASEPILOT_REAL_DATA)")
        return
    for format_name, relative, systems in REAL_FILES:
        path = folder / relative
        if not path.exists():
            print(f"{format_name}: skipped, {path} is missing")
            continue
        _empty(format_name, systems)
        first = import_bundle(format_name, [path], ImportOptions())
        primary = first.importer.primary
        first_seconds, added = first.seconds, first.counts[primary].added
        del first  # the parsed file is not kept around while the second run works
        again = import_bundle(format_name, [path], ImportOptions())
        print(
            f"{format_name:16} {path.name}: first {first_seconds:6.1f} s "
            f"({added:,} {primary} added), "
            f"again {again.seconds:5.1f} s ({again.counts[primary].changed:,} changed), "
            f"{first_seconds / again.seconds:4.1f}x faster; {_rows(format_name, systems)}",
            flush=True,
        )
