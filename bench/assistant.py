"""CasePilot at full size: server time and SQL queries per answer from our tables.

The catalogue is Case2Code's bench catalogue (more than 100,000 codes: all of ICD-10-CM and the
HCPCS and PFS codes when ../shared/data has them, see bench/search.py), and the NCCI table holds
the whole practitioner PTP file of v30.1 (its 1.67 million edits in force), loaded once into the
bench database and reused by later runs. For each kind of question it prints the median and
95th percentile of `answer_build` alone, its SQL queries, and the whole ask-and-redirect request
of an account (Django test client, no network). The target: 40 ms p95 and 10 queries.
"""

from __future__ import annotations

import datetime
import gzip
import statistics
import time
import uuid

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import User
from assistant.answers import answer_build
from bench.importers import real_data_dir
from bench.search import catalogue_ensure
from codes.models import Code, NcciEdit

ROUNDS = 40
TODAY = datetime.date(2026, 6, 1)
NCCI_FILE = "ncci/ptp-practitioner-2024q2-v301r0.tsv.gz"
NCCI_START = datetime.date(2024, 4, 1)  # v30.1's effective date; the copy's column is empty
NCCI_FULL = 1_000_000

QUESTIONS = [
    ("code", "What is CPT code 99213?", None),
    ("code (ICD-10-CM)", "M54.50?", None),
    ("compare", "99213 vs 99214", None),
    ("guidelines", "how do I count facet levels", None),
    ("modifiers on a page", "what modifiers?", "64494"),
    ("modifier meaning", "what is modifier 59", None),
    ("crosswalk", "which diagnoses support 64494", None),
    ("NCCI pair", "can I bill 64493 with 77003", None),
    ("NCCI, one code", "NCCI edits for 64493", None),
    ("MUE", "how many units of 64494", None),
    ("payment", "how much does Medicare pay for 99214", None),
    ("payment in a locality", "how much does Medicare pay for 99214 in Manhattan", None),
    ("coverage", "is 64494 covered by Medicare", None),
    ("history", "when was 64494 added", None),
    ("made-up code", "What is CPT code 99999?", None),
]


def ncci_ensure() -> int:
    """Load the whole practitioner PTP file's edits in force, unless an earlier run did."""
    count = NcciEdit.objects.count()
    folder = real_data_dir()
    if count >= NCCI_FULL or folder is None or not (folder / NCCI_FILE).exists():
        return count
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_ncci (c1 text, c2 text, mi text, why text) ON COMMIT DROP"
        )
        with (
            gzip.open(folder / NCCI_FILE, "rt") as rows,
            cursor.copy("COPY bench_ncci FROM STDIN") as copy,
        ):
            next(rows)
            for line in rows:
                c1, c2, _prior, _start, end, indicator, why = line.rstrip("\n").split("\t")
                if end == "*":
                    copy.write_row((c1, c2, indicator, why[:200]))
        cursor.execute(
            """
            INSERT INTO codes_ncciedit (column1, column2, prior_1996, effective_date,
                                        modifier_indicator, rationale, setting)
            SELECT c1, c2, false, %s, mi, why, 'practitioner' FROM bench_ncci
            ON CONFLICT DO NOTHING
            """,
            [NCCI_START],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE codes_ncciedit")
    count = NcciEdit.objects.count()
    print(f"loaded NCCI PTP v30.1: {count:,} edits in {time.perf_counter() - started:.0f} s")
    return count


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def _measure(label: str, ask) -> tuple[float, int]:
    ask()  # warm-up
    timings = []
    queries = 0
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            ask()
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    p95 = _percentile(timings, 0.95)
    print(
        f"{label:<22} median {statistics.median(timings):6.2f} ms   p95 {p95:6.2f} ms   "
        f"{queries:2d} queries"
    )
    return p95, queries


def run() -> None:
    codes = catalogue_ensure()
    edits = ncci_ensure()
    print(f"{codes:,} codes, {edits:,} NCCI edits")
    print("answer from our tables (answer_build, an account):")
    worst = (0.0, 0)
    for label, text, context_key in QUESTIONS:
        context = (
            Code.objects.select_related("system", "group").get(system__slug="cpt", key=context_key)
            if context_key
            else None
        )
        p95, queries = _measure(
            label,
            lambda text=text, context=context: answer_build(
                text=text, today=TODAY, sections=True, context=context
            ),
        )
        worst = (max(worst[0], p95), max(worst[1], queries))
    print(f"worst p95 {worst[0]:.2f} ms (target 40), most queries {worst[1]} (target 10)")

    with override_settings(
        ALLOWED_HOSTS=["testserver"],
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        user = User.objects.create_user(
            email=f"bench-{uuid.uuid4().hex[:8]}@example.com", password=None, is_staff=True
        )
        account = Client()
        account.force_login(user)
        print("the whole request (an account's POST, answer saved, redirect):")
        _measure(
            "ask, NCCI pair",
            lambda: account.post("/casepilot/ask/", {"question": "can I bill 64493 with 77003"}),
        )
        user.delete()
