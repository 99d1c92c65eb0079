"""Running one importer over one file (or one bundle of files): parse everything, then write
inside a single transaction, and record the run."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from codes.changes import changes_lock_for_import
from codes.importers.base import (
    MAX_WARNINGS_KEPT,
    Counts,
    Importer,
    ImportFileError,
    ImportOptions,
)
from codes.importers.cpt import CptImporter
from codes.importers.gpci import GpciImporter, LocalityImporter
from codes.importers.hcpcs import HcpcsImporter
from codes.importers.icd10cm import Icd10cmImporter
from codes.importers.mue import MueImporter
from codes.importers.ncci import NcciImporter
from codes.importers.pfs import PfsImporter
from codes.importers.progress import SILENT, ProgressFactory
from codes.models import ImportRun
from codes.page_cache import data_version_bump

VACUUM_AFTER_ROWS = 5000

FORMATS: dict[str, type[Importer]] = {
    importer.format: importer
    for importer in (
        HcpcsImporter,
        Icd10cmImporter,
        PfsImporter,
        CptImporter,
        NcciImporter,
        MueImporter,
        GpciImporter,
        LocalityImporter,
    )
}


@dataclass
class ImportOutcome:
    importer: Importer
    run: ImportRun | None
    seconds: float

    @property
    def counts(self) -> dict[str, Counts]:
        return self.importer.counts


def import_bundle(
    format_name: str,
    paths: list[Path],
    options: ImportOptions | None = None,
    progress: ProgressFactory = SILENT,
) -> ImportOutcome:
    """Import one file (or one bundle, for formats that come as several files). Nothing is
    written unless every line parsed; any error rolls the whole file back."""
    options = options or ImportOptions()
    importer_class = FORMATS[format_name]
    importer = importer_class(importer_class.open_sources(paths), options, progress)
    started_at, started = timezone.now(), time.perf_counter()
    with _no_cyclic_gc():
        importer.parse()
        try:
            with transaction.atomic():
                # The run is recorded first, so that the changes an importer records while
                # it writes can name it; its counts are filled in once the writing is done.
                if not options.dry_run and options.record_changes:
                    changes_lock_for_import()
                run = importer.run = None if options.dry_run else _start(importer, started_at)
                importer.apply()
                if run is not None:
                    _finish(run, importer)
        except DatabaseError as exc:
            raise ImportFileError(
                importer.label, f"the database refused the data ({' '.join(str(exc).split())})"
            ) from exc
    if run is not None:
        data_version_bump()  # bulk writes send no signals: retire cached page parts here
    if run is not None and run.added + run.updated >= VACUUM_AFTER_ROWS:
        _vacuum(importer)
    return ImportOutcome(importer, run, time.perf_counter() - started)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Parsing builds a few hundred thousand small objects and no reference cycles; the cyclic
    collector would scan them all again and again (a quarter of an ICD-10-CM import)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _vacuum(importer: Importer) -> None:
    """After a bulk load, what PostgreSQL's guide to populating a database advises: VACUUM
    ANALYZE, so the planner has statistics for the new rows and the first reads do not pay
    for setting their visibility bits. Impossible inside an outer transaction (tests)."""
    if connection.in_atomic_block:
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in importer.tables)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {tables}")


def _start(importer: Importer, started_at) -> ImportRun:
    return ImportRun.objects.create(
        format=importer.format,
        filename=importer.label[:500],
        sha256=importer.sha256,
        started_at=started_at,
    )


def _finish(run: ImportRun, importer: Importer) -> None:
    counts = importer.counts.get(importer.primary, Counts())
    warnings = [str(w) for w in importer.warnings[:MAX_WARNINGS_KEPT]]
    if len(importer.warnings) > MAX_WARNINGS_KEPT:
        warnings.append(f"… and {len(importer.warnings) - MAX_WARNINGS_KEPT:,} more")
    run.finished_at = timezone.now()
    run.added, run.updated, run.deleted = counts.added, counts.updated, counts.deleted
    run.unchanged, run.warnings = counts.unchanged, warnings
    run.save(update_fields=["finished_at", "added", "updated", "deleted", "unchanged", "warnings"])
