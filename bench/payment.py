"""Payment by locality: importing its files, and working out the payment section.

Each file (PFS 2025, both Addendum E GPCI years, the counties file) is imported once into a
database without its rows and once again unchanged; the figures are the time of each run and
the peak Python memory the run allocated (tracemalloc). Then the RVU and payment section is
built in-process for 99214 nationally and in Manhattan, and ten claim lines are priced.
"""

from __future__ import annotations

import datetime
import statistics
import time
import tracemalloc
from pathlib import Path

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench.importers import real_data_dir
from codes.demo import load_demo
from codes.importers.base import ImportOptions, year_in
from codes.importers.runner import import_bundle
from codes.knowledge import payment_section_build
from codes.models import Code, Gpci, ImportRun, Locality, RvuLine
from codes.payment import PriceRequest, locality_find, price_lines

FILES = [  # (format, path inside the data folder)
    ("cms-pfs-rvu", "pfs/PPRRVU25_JAN1.csv"),
    ("cms-gpci", "gpci/GPCI2025.csv"),
    ("cms-gpci", "gpci/GPCI2026.csv"),
    ("cms-locality", "gpci/25LOCCO1.csv"),
]
ROUNDS = 300
DAY = datetime.date(2025, 6, 15)


@transaction.atomic
def _empty(format_name: str, name: str) -> None:
    ImportRun.objects.filter(format=format_name, filename=name).delete()
    if format_name == "cms-pfs-rvu":
        RvuLine.objects.filter(edition="2025-JAN").delete()
    elif format_name == "cms-gpci":
        Gpci.objects.filter(year=year_in(name)).delete()
    elif format_name == "cms-locality":
        Locality.objects.update(state_name="", area="", counties="")


def _import(format_name: str, path: Path, *, traced: bool) -> tuple[float, int, int]:
    """Seconds, primary rows changed and (when traced) peak kB of Python allocations for one
    import.
    Tracing slows Python down several times, so times come from untraced runs."""
    if traced:
        tracemalloc.start()
    outcome = import_bundle(format_name, [path], ImportOptions())
    peak = 0
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return outcome.seconds, outcome.counts[outcome.importer.primary].changed, peak // 1024


def _imports() -> None:
    folder = real_data_dir()
    if folder is None:
        print("imports skipped: no real data folder (../shared/data or $CASEPILOT_REAL_DATA)")
        return
    for format_name, relative in FILES:
        path = folder / relative
        if not path.exists():
            print(f"{format_name}: skipped, {path} is missing")
            continue
        _empty(format_name, path.name)
        first, written, _ = _import(format_name, path, traced=False)
        again, changed, _ = _import(format_name, path, traced=False)
        _empty(format_name, path.name)
        _, _, first_kb = _import(format_name, path, traced=True)
        _, _, again_kb = _import(format_name, path, traced=True)
        print(
            f"{format_name:13} {path.name:18} first {first:5.2f} s ({written:,} written, "
            f"peak {first_kb:,} kB)   again {again:5.2f} s ({changed:,} changed, "
            f"peak {again_kb:,} kB)",
            flush=True,
        )


def _measure(label: str, work) -> None:
    timings, queries = [], 0
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            work()
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{label:<44} median {statistics.median(timings):6.3f} ms   p95 {p95:6.3f} ms   "
        f"{queries} queries",
        flush=True,
    )


def _section() -> None:
    code = Code.objects.select_related("system").filter(system__slug="cpt", key="99214").first()
    manhattan = locality_find(key="13202-01")
    if code is None or manhattan is None:
        print("section skipped: no 99214 or no Manhattan locality")
        return
    _measure(
        "payment section, 99214 national",
        lambda: payment_section_build(code=code, dos=DAY, locality=None),
    )
    _measure(
        "payment section, 99214 in Manhattan",
        lambda: payment_section_build(code=code, dos=DAY, locality=manhattan),
    )
    _measure("locality look-up (key → locality + GPCIs)", lambda: locality_find(key="13202-01"))
    lines = [
        PriceRequest(code, modifiers)
        for code, modifiers in [
            ("99214", ()),
            ("64493", ()),
            ("64494", ()),
            ("20610", ("50",)),
            ("72148", ("26",)),
            ("71046", ("TC",)),
            ("10060", ("51",)),
            ("11102", ()),
            ("45378", ("53",)),
            ("64490", ("80",)),
        ]
    ]

    # A locality object without its GPCIs read, as a caller holding only the row passes it.
    def fresh() -> Locality:
        return Locality(pk=manhattan.pk, mac=manhattan.mac, number=manhattan.number)

    _measure(
        "price_lines, 10 claim lines in Manhattan",
        lambda: price_lines(lines, day=DAY, locality=fresh()),
    )


def run() -> None:
    _imports()
    load_demo()  # the demo's codes, localities and 2025 lines when the real files are absent
    _section()
