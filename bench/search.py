"""Case2Code search on a real-sized catalogue: server time and SQL queries per search.

The catalogue (built once in the bench database, reused by later runs) holds more than 100,000
codes: the real ICD-10-CM titles from the FY2026 tabular XML with the 7th characters applied,
CPT and HCPCS codes with the short descriptors of the PFS relative value file and the CMS HCPCS
file, when ../shared/data has them, each given a generated official and plain-language text;
synthetic codes from medical vocabulary fill up to the target. The demo content is loaded first
so that the facet family and the E/M codes carry their real descriptors.

For 30 fixed queries of each kind (exact, prefix, range, words, typo) it prints the median and
95th percentile of the search alone and of the whole page (Django test client, no network),
the SQL queries per search, and the EXPLAIN ANALYZE of the slowest statement of each kind.
"""

from __future__ import annotations

import csv
import os
import random
import re
import statistics
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from codes import search as case2code
from codes.demo import load_demo
from codes.models import Code, CodeGroup, CodeSystem, SearchSynonym
from codes.normalize import canonical_code, code_key

TARGET = 110_000
ROUNDS = 10  # each query runs this many times after one warm-up run
BATCH = 5_000
SLUG_PREFIX = "bench-"

QUERIES: dict[str, list[str]] = {
    "exact": [
        "64494",
        "j1100",
        "M54.50",
        "m5450",
        "99213",
        "99214",
        "20610",
        "72148",
        "E11.9",
        "I10",
        "S72.001A",
        "s72001a",
        "J0585",
        "G0439",
        "A0428",
        "E0601",
        "Z00.00",
        "F32.A",
        "N18.6",
        "R10.9",
        "K21.9",
        "M17.11",
        "J45.909",
        "C50.911",
        "O80",
        "71046",
        "93000",
        "36415",
        "80053",
        "85025",
    ],
    "prefix": [
        "6449",
        "J11",
        "M54.5",
        "992",
        "S72.0",
        "E11",
        "I2",
        "J01",
        "7214",
        "2061",
        "A41",
        "C50",
        "Z00",
        "G04",
        "L80",
        "F32",
        "N18",
        "R10",
        "K21",
        "M17",
        "T36.0",
        "881",
        "E06",
        "K25",
        "H40.1",
        "S06.3",
        "V89",
        "W19",
        "3641",
        "J45",
    ],
    "range": [
        "64490-64495",
        "99202–99215",
        "20600-20611",
        "70010-70559",
        "M54.0-M54.9",
        "E11.0-E11.9",
        "J0100-J0200",
        "S72.0-S72.1",
        "99281-99285",
        "93000-93010",
        "80047-80076",
        "J45.2-J45.5",
        "I20-I25",
        "C50.0-C50.9",
        "11042-11047",
        "27130-27447",
        "E0100-E0200",
        "A0425-A0436",
        "N18.1 to N18.9",
        "36400–36425",
        "G0438-G0439",
        "77065-77067",
        "90832-90838",
        "97110-97140",
        "K20-K31",
        "F30-F39",
        "Z00-Z13",
        "L8000-L8040",
        "43235-43259",
        "45378-45398",
    ],
    "words": [
        "lumbar facet injection",
        "office visit established 20 minutes",
        "facet joint injection lumbar second level",
        "knee arthroscopy meniscectomy",
        "colonoscopy with biopsy",
        "type 2 diabetes with hyperglycemia",
        "low back pain",
        "fracture of shaft of femur",
        "chest x-ray",
        "mri brain without contrast",
        "cataract extraction",
        "total knee arthroplasty",
        "screening mammography",
        "influenza vaccine",
        "essential hypertension",
        "pneumonia",
        "urinary tract infection",
        "major depressive disorder",
        "ct abdomen pelvis with contrast",
        "transthoracic echocardiography",
        "physical therapy evaluation",
        "psychotherapy 60 minutes",
        "wheelchair",
        "insulin",
        "ambulance transport",
        "comprehensive metabolic panel",
        "electrocardiogram 12 lead",
        "inj l/s",
        "e/m new patient",
        "initial encounter closed fracture",
    ],
    "typo": [
        "paravertbral",
        "lumbr facet injecton",
        "colonscopy",
        "diabetis mellitus",
        "hypertenson",
        "pneumonai",
        "fractrue femur",
        "mamography screening",
        "arthroscopy kne",
        "cataract extracton",
        "echocardiograpy",
        "psychoterapy",
        "ultrasond abdomen",
        "insulim",
        "whelchair",
        "ambulanse",
        "migrane",
        "astma",
        "bronchitus",
        "appendectomie",
        "laproscopic cholecystectomy",
        "osteoarthritus knee",
        "tonsilectomy",
        "hernai repair",
        "catheterisation",
        "anemai",
        "dermatitus",
        "glaucomma",
        "spondylosis lumbr",
        "vaccin influenza",
    ],
}
TARGETS_MS = {"exact": 5, "prefix": 5, "range": 5, "words": 30, "typo": 30}


# --- Building the catalogue ------------------------------------------------------------------


def _data_dir() -> Path:
    return Path(os.environ.get("CASEPILOT_REAL_DATA", settings.BASE_DIR.parent / "shared" / "data"))


def _short(text: str, limit: int = 60) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;")


class Catalogue:
    """Codes to insert, by system, with the group each belongs to."""

    def __init__(self) -> None:
        self.rows: list[Code] = []
        self.keys: set[tuple[int, str]] = set()
        self.rng = random.Random(2026)
        self.expansions = dict(SearchSynonym.objects.values_list("term", "expansion"))

    def add(
        self,
        system: CodeSystem,
        code: str,
        short: str,
        long: str,
        plain: str,
        group: CodeGroup | None,
        billable: bool = True,
    ) -> None:
        key = code_key(code)
        if (system.pk, key) in self.keys:
            return
        self.keys.add((system.pk, key))
        self.rows.append(
            Code(
                system=system,
                code=code,
                key=key,
                short_descriptor=short[:200],
                long_descriptor=long,
                plain_language=plain,
                group=group,
                is_billable=billable,
            )
        )

    def expand(self, short: str) -> str:
        words = [self.expansions.get(w.lower(), w) for w in short.split()]
        return " ".join(words)

    def plain(self, subject: str, code: str) -> str:
        openers = [
            f"{code} describes {subject}.",
            f"Coders report {code} for {subject}.",
            f"{code} is used for {subject}.",
        ]
        middles = [
            "Documentation should name the site, the approach and the reason for the service.",
            "Payers compare it with the diagnosis on the claim and with the codes billed the "
            "same day.",
            "Check the bundling edits before reporting it with another procedure on the same date.",
            "It is reported once per encounter unless the descriptor says otherwise.",
            "Imaging guidance is included when the descriptor mentions it.",
            "The record should support medical necessity for the service.",
            "A modifier may be needed when it is performed on both sides or at another session.",
        ]
        sentences = [self.rng.choice(openers), *self.rng.sample(middles, 3)]
        return " ".join(sentences)


def _groups(system: CodeSystem, specs: list[tuple[str, str, str, str | None]]) -> dict:
    """Create the groups (slug, title, kind, parent slug; parents first), returned by slug."""
    made = {
        g.slug: g for g in CodeGroup.objects.filter(system=system, slug__startswith=SLUG_PREFIX)
    }
    level: list[CodeGroup] = []
    for n, (slug, title, kind, parent_slug) in enumerate(specs):
        if slug in made:
            continue
        parent = made.get(parent_slug) if parent_slug else None
        if parent is not None and parent.pk is None:  # its parent waits for this level
            CodeGroup.objects.bulk_create(level, batch_size=BATCH)
            level = []
        group = CodeGroup(
            system=system,
            slug=slug,
            title=title[:500],
            kind=kind,
            parent=parent,
            sort_key=f"{n:06d}",
            depth=parent.depth + 1 if parent else 0,
        )
        made[slug] = group
        level.append(group)
    CodeGroup.objects.bulk_create(level, batch_size=BATCH)
    return made


def _icd10cm(catalogue: Catalogue, path: Path) -> None:
    system = CodeSystem.objects.get(slug="icd10cm")
    root = ET.parse(path).getroot()
    specs: list[tuple[str, str, str, str | None]] = []
    members: list[tuple[str, str, bool, str]] = []  # code, title, billable, group slug

    def walk(diag: ET.Element, section_slug: str, seventh: dict[str, str]) -> None:
        name = diag.findtext("name", "")
        title = diag.findtext("desc", "")
        table = diag.find("sevenChrDef")
        if table is not None:
            seventh = {e.get("char", ""): (e.text or "") for e in table.findall("extension")}
        children = diag.findall("diag")
        if len(name) == 3:
            specs.append((f"{SLUG_PREFIX}icd-{name.lower()}", title, "category", section_slug))
        group_slug = f"{SLUG_PREFIX}icd-{name[:3].lower()}"
        leaf = not children
        members.append((name, title, leaf and not seventh, group_slug))
        if leaf and seventh:
            compact = name.replace(".", "").ljust(6, "X")
            for char, extension in seventh.items():
                key = compact + char
                members.append((f"{key[:3]}.{key[3:]}", f"{title}, {extension}", True, group_slug))
        for child in children:
            walk(child, section_slug, seventh)

    for chapter in root.iter("chapter"):
        chapter_slug = f"{SLUG_PREFIX}icd-ch-{chapter.findtext('name', '')}"
        specs.append((chapter_slug, chapter.findtext("desc", ""), "chapter", None))
        for section in chapter.findall("section"):
            section_slug = f"{SLUG_PREFIX}icd-{section.get('id', '').lower()}"
            specs.append((section_slug, section.findtext("desc", ""), "section", chapter_slug))
            for diag in section.findall("diag"):
                walk(diag, section_slug, {})
    groups = _groups(system, specs)
    for code, title, billable, group_slug in members:
        catalogue.add(
            system,
            code,
            _short(title),
            title,
            catalogue.plain(title[:1].lower() + title[1:], code),
            groups.get(group_slug),
            billable,
        )


def _pfs_codes(path: Path) -> Iterator[tuple[str, str]]:
    with path.open(newline="", encoding="latin-1") as handle:
        for row in csv.reader(handle):
            if len(row) > 3 and re.fullmatch(r"[0-9A-Z]{5}", row[0]) and not row[1]:
                yield row[0], row[2].strip()


def _procedures(catalogue: Catalogue, data: Path) -> None:
    cpt = CodeSystem.objects.get(slug="cpt")
    hcpcs = CodeSystem.objects.get(slug="hcpcs")
    long_hcpcs: dict[str, str] = {}
    short_hcpcs: dict[str, str] = {}
    hcpcs_file = data / "hcpcs" / "HCPC2016_CONTR_ANWEB.txt"
    if hcpcs_file.exists():
        for line in hcpcs_file.read_text(encoding="latin-1").splitlines():
            code, kind = line[:5].strip(), line[10:11]
            if kind == "3" and code:
                long_hcpcs[code] = line[11:91].strip()
                short_hcpcs[code] = line[91:119].strip()
            elif kind == "4" and code in long_hcpcs:
                long_hcpcs[code] += " " + line[11:91].strip()
    pfs_file = data / "pfs" / "PPRRVU23_JAN.csv"
    shorts = dict(_pfs_codes(pfs_file)) if pfs_file.exists() else {}
    for code, short in short_hcpcs.items():
        shorts.setdefault(code, short)
    specs = [
        (f"{SLUG_PREFIX}cpt-{d}", f"CPT codes {d}0000–{d}9999", "section", None)
        for d in "0123456789"
    ]
    specs += [
        (f"{SLUG_PREFIX}hcpcs-{c.lower()}", f"HCPCS {c} codes", "section", None)
        for c in "ABCDEGHJKLMPQRSTUV"
    ]
    cpt_groups = _groups(cpt, specs[:10])
    hcpcs_groups = _groups(hcpcs, specs[10:])
    for code, short in sorted(shorts.items()):
        expanded = catalogue.expand(short)
        if code[0].isdigit() and canonical_code("cpt", code):
            catalogue.add(
                cpt,
                code,
                short,
                f"{expanded} (procedure or service)",
                catalogue.plain(expanded.lower(), code),
                cpt_groups[f"{SLUG_PREFIX}cpt-{code[0]}"],
            )
        elif canonical_code("hcpcs", code):
            long = long_hcpcs.get(code, expanded)
            catalogue.add(
                hcpcs,
                code,
                short,
                long,
                catalogue.plain(long.lower(), code),
                hcpcs_groups.get(f"{SLUG_PREFIX}hcpcs-{code[0].lower()}"),
            )


VOCABULARY = {
    "procedure": [
        "excision",
        "repair",
        "biopsy",
        "drainage",
        "injection",
        "aspiration",
        "reconstruction",
        "removal",
        "insertion",
        "replacement",
        "debridement",
        "arthrodesis",
        "decompression",
        "fixation",
        "ablation",
        "imaging",
    ],
    "site": [
        "shoulder",
        "elbow",
        "wrist",
        "hip",
        "knee",
        "ankle",
        "cervical spine",
        "thoracic spine",
        "lumbar spine",
        "abdominal wall",
        "chest wall",
        "scalp",
        "eyelid",
        "kidney",
        "bladder",
        "liver",
        "colon",
        "stomach",
        "esophagus",
        "thyroid",
    ],
    "qualifier": [
        "open approach",
        "percutaneous approach",
        "endoscopic",
        "with imaging guidance",
        "without imaging guidance",
        "single level",
        "each additional level",
        "complex",
        "simple",
        "intermediate",
        "bilateral",
        "unilateral",
    ],
}


def _synthetic(catalogue: Catalogue, wanted: int) -> None:
    """Codes built from medical vocabulary, in the ICD-10-CM U chapter's spare room."""
    system = CodeSystem.objects.get(slug="icd10cm")
    group = _groups(
        system, [(f"{SLUG_PREFIX}icd-synthetic", "Synthetic bench codes", "chapter", None)]
    )[f"{SLUG_PREFIX}icd-synthetic"]
    rng = catalogue.rng
    n = 0
    while wanted > 0:
        n += 1
        key = f"U{10 + n // 10000:02d}{n % 10000:04d}"
        title = (
            f"{rng.choice(VOCABULARY['procedure']).capitalize()} of "
            f"{rng.choice(VOCABULARY['site'])}, {rng.choice(VOCABULARY['qualifier'])}"
        )
        before = len(catalogue.rows)
        code = f"{key[:3]}.{key[3:]}"
        catalogue.add(
            system, code, _short(title), title, catalogue.plain(title.lower(), code), group
        )
        wanted -= len(catalogue.rows) - before


def catalogue_ensure() -> int:
    """Build the catalogue unless an earlier run did; returns how many codes there are."""
    load_demo()
    count = Code.objects.count()
    if count >= TARGET:
        return count
    started = time.perf_counter()
    catalogue = Catalogue()
    catalogue.keys = set(Code.objects.values_list("system_id", "key"))
    data = _data_dir()
    icd_file = data / "icd10cm" / "icd10cm-tabular-2026.xml"
    if icd_file.exists():
        _icd10cm(catalogue, icd_file)
    _procedures(catalogue, data)
    _synthetic(catalogue, TARGET - count - len(catalogue.rows))
    with transaction.atomic():
        Code.objects.bulk_create(catalogue.rows, batch_size=BATCH, ignore_conflicts=True)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Code._meta.db_table}")
    count = Code.objects.count()
    print(
        f"built the catalogue: {count:,} codes in {time.perf_counter() - started:.0f} s "
        f"({'real files from ' + str(data) if icd_file.exists() else 'synthetic only'})"
    )
    return count


# --- Measuring ------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _slowest_statement(captured: CaptureQueriesContext) -> str:
    return max(captured.captured_queries, key=lambda q: float(q["time"]))["sql"]


def _explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
        return "\n".join(f"    {row[0]}" for row in cursor.fetchall())


class StatementClock:
    """Wall time spent in SQL statements (sent, run and read back), for one search."""

    def __init__(self) -> None:
        self.ms = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - started) * 1000


def _measure_kind(kind: str, queries: list[str], client: Client) -> None:
    search_ms: list[float] = []
    sql_ms: list[float] = []
    page_ms: list[float] = []
    query_counts: list[int] = []
    slowest: tuple[float, str, str] = (0.0, "", "")
    misses = []
    filters = case2code.SearchFilters()
    for text in queries:
        parsed = case2code.query_parse(raw=text)
        outcome = case2code.search_run(query=parsed, filters=filters)  # warm-up
        if not (outcome.redirect_to or outcome.total):
            misses.append(text)
        for _ in range(ROUNDS):
            clock = StatementClock()
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(clock):
                started = time.perf_counter()
                case2code.search_run(query=case2code.query_parse(raw=text), filters=filters)
                elapsed = (time.perf_counter() - started) * 1000
            search_ms.append(elapsed)
            sql_ms.append(clock.ms)
            query_counts.append(len(captured))
            if elapsed > slowest[0]:
                slowest = (elapsed, text, _slowest_statement(captured))
            started = time.perf_counter()
            response = client.get("/search/", {"q": text})
            page_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code in (200, 302), (text, response.status_code)
    p95 = _percentile(search_ms, 0.95)
    verdict = "meets" if p95 <= TARGETS_MS[kind] else "MISSES"
    print(
        f"{kind:<7} search median {statistics.median(search_ms):6.2f} ms  p95 {p95:6.2f} ms "
        f"({verdict} {TARGETS_MS[kind]} ms) | page median {statistics.median(page_ms):6.2f} ms  "
        f"p95 {_percentile(page_ms, 0.95):6.2f} ms | SQL time median "
        f"{statistics.median(sql_ms):5.2f} p95 {_percentile(sql_ms, 0.95):5.2f} ms, "
        f"{min(query_counts)}–{max(query_counts)} statements"
    )
    if misses:
        print(f"        found nothing for: {', '.join(misses)}")
    print(f"        slowest: {slowest[1]!r} {slowest[0]:.2f} ms; its slowest statement:")
    print(_explain(slowest[2]))


def _measure_pages(client: Client) -> None:
    group = CodeGroup.objects.filter(slug__startswith=f"{SLUG_PREFIX}icd-s72").first()
    pages = ["/cpt/", "/icd-10-cm/", "/search/suggest/?q=lumbar+fac", "/search/suggest/?q=M54"]
    if group is not None:
        pages.append(group.get_absolute_url())
    for path in pages:
        timings = []
        for _ in range(ROUNDS + 1):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        print(f"{path:<40} median {statistics.median(timings[1:]):7.2f} ms  {len(captured)} SQL")


def _measure_sitemaps(client: Client) -> None:
    for path in ["/sitemap.xml", "/sitemap-icd-10-cm.xml", "/sitemap-icd-10-cm.xml?p=2"]:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        urls = response.content.count(b"<loc>")
        print(f"{path:<40} {elapsed:8.0f} ms  {len(captured)} SQL  {urls:,} URLs")


def run() -> None:
    count = catalogue_ensure()
    print(f"{count:,} codes in the catalogue; {ROUNDS} runs of each query after a warm-up")
    # Other work on the machine shows in the percentiles; the load average says how much.
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with override_settings(
        ALLOWED_HOSTS=["testserver"],
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        client = Client()
        for kind, queries in QUERIES.items():
            _measure_kind(kind, queries, client)
        print("browse and autocomplete:")
        _measure_pages(client)
        print("sitemaps (once each):")
        _measure_sitemaps(client)
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
