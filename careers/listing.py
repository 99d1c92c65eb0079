"""The list page's filters, their counts, full-text search, sorting and pages.

Filters come from the query string; a value that is not one of a filter's choices is ignored
(the page shows the jobs as if it were absent), so any URL someone shares still works.

Counts: each value of a filter shows how many jobs it would match together with the *other*
filters in force — choosing it gives exactly that many results. About a hundred counts per
page are too many for SQL to compute in a few milliseconds, so the listed jobs are kept in a
small in-process index of bit sets (one per filter value, a bit per job, newest job first):
a count is an AND and a popcount. The index is rebuilt when any job changes (a version in the
shared cache, bumped on every save, so every worker on every server sees it) and each day.
Full-text search stays in Postgres (`search_vector`), which returns the ids that match.

Each filter is written twice — a Q for SQL (alerts, tests) and a predicate for the index —
and a test checks that the two agree for every value.
"""

from __future__ import annotations

import bisect
import datetime
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery
from django.core.cache import cache
from django.db.models import F, Func, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from careers.choices import Arrangement, Credential, EmploymentType, Setting, Specialty, State
from careers.models import Job, arrangement_text, pay_text

SEARCH_MAX_CHARS = 200
PAY_FLOORS = [30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 100_000]
POSTED_WITHIN_DAYS = [1, 3, 7, 14, 30]
VERSION_KEY = "careers:board-version"
INDEX_MAX_AGE_SECONDS = 600  # a change made behind the models' back shows within this
SEARCHES_KEPT = 256


class JobRow(NamedTuple):
    """The columns the filters and the list read, for one listed job."""

    pk: int
    slug: str
    title: str
    employer_name: str
    city: str
    is_example: bool
    onsite_days: int | None
    pay_min: Decimal
    pay_max: Decimal
    pay_period: str
    posted_ts: float  # seconds since 1970: Postgres sends it ten times faster than a timestamp
    credentials_required: list[str]
    credentials_preferred: list[str]
    setting: str
    specialties: list[str]
    arrangement: str
    state: str
    remote_states: list[str]
    pay_min_annual: Decimal
    pay_max_annual: Decimal
    employment_type: str
    cpc_a_welcome: bool


class JobCard(NamedTuple):
    """What the list shows of a job, kept in the index so a page of results needs no query."""

    pk: int
    url: str
    title: str
    employer_name: str
    city: str
    state: str
    is_example: bool
    arrangement_text: str
    employment_type: str
    setting: str
    pay_text: str
    credentials_required: list[str]
    posted_on: str

    @classmethod
    def from_row(cls, row: JobRow, stem: str) -> JobCard:
        posted = datetime.datetime.fromtimestamp(row.posted_ts, datetime.UTC)
        return cls(
            pk=row.pk,
            url=f"{stem}{row.pk}-{row.slug}/",
            title=row.title,
            employer_name=row.employer_name,
            city=row.city,
            state=row.state,
            is_example=row.is_example,
            arrangement_text=arrangement_text(row.arrangement, row.onsite_days),
            employment_type=EmploymentType(row.employment_type).label,
            setting=Setting(row.setting).label,
            pay_text=pay_text(row.pay_min, row.pay_max, row.pay_period),
            credentials_required=row.credentials_required,
            posted_on=f"{posted:%b} {posted.day}, {posted.year}",
        )


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    choices: list[tuple[str, str]]
    match: Callable[[str], Q]
    # The values of this filter a job matches (None: it depends on the time: posted within)
    values_of: Callable[[JobRow], Iterable[str]] | None
    any_label: str = "Any"


def _state_match(value: str) -> Q:
    # A remote job with no state list hires anywhere; one with a list hires in those states.
    return (
        Q(state=value, arrangement__in=[Arrangement.ONSITE, Arrangement.HYBRID])
        | Q(arrangement=Arrangement.REMOTE, remote_states=[])
        | Q(arrangement=Arrangement.REMOTE, remote_states__contains=[value])
    )


ALL_STATES = [state.value for state in State]


def _states_of(job: JobRow) -> Iterable[str]:
    if job.arrangement == Arrangement.REMOTE:
        return job.remote_states or ALL_STATES
    return [job.state]


def _posted_cutoff(value: str) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=int(value))


FACETS: list[Facet] = [
    Facet(
        "credential",
        "Credential",
        [(c.value, c.value) for c in Credential],
        lambda v: Q(credentials_required__contains=[v]) | Q(credentials_preferred__contains=[v]),
        lambda job: {*job.credentials_required, *job.credentials_preferred},
    ),
    Facet(
        "setting",
        "Setting",
        list(Setting.choices),
        lambda v: Q(setting=v),
        lambda job: [job.setting],
    ),
    Facet(
        "specialty",
        "Specialty",
        list(Specialty.choices),
        lambda v: Q(specialties__contains=[v]),
        lambda job: job.specialties,
    ),
    Facet(
        "arrangement",
        "Arrangement",
        list(Arrangement.choices),
        lambda v: Q(arrangement=v),
        lambda job: [job.arrangement],
    ),
    Facet(
        "state",
        "State (on site, or hiring remotely in)",
        list(State.choices),
        _state_match,
        _states_of,
    ),
    Facet(
        "min_pay",
        "Pay from (a year; hourly × 2,080)",
        [(str(n), f"${n:,}+") for n in PAY_FLOORS],
        lambda v: Q(pay_min_annual__gte=Decimal(v)),
        lambda job: [str(n) for n in PAY_FLOORS if job.pay_min_annual >= n],
    ),
    Facet(
        "type",
        "Employment type",
        list(EmploymentType.choices),
        lambda v: Q(employment_type=v),
        lambda job: [job.employment_type],
    ),
    Facet(
        "cpc_a",
        "CPC-A welcome",
        [("1", "CPC-A welcome")],
        lambda v: Q(cpc_a_welcome=True),
        lambda job: ["1"] if job.cpc_a_welcome else [],
        any_label="",
    ),
    Facet(
        "posted",
        "Posted within",
        [(str(d), "the last day" if d == 1 else f"the last {d} days") for d in POSTED_WITHIN_DAYS],
        lambda v: Q(posted_at__gte=_posted_cutoff(v)),
        None,
        any_label="Any time",
    ),
]
FACETS_BY_NAME = {facet.name: facet for facet in FACETS}

SORTS = {"newest": "Newest first", "pay": "Highest pay first"}


@dataclass
class JobFilters:
    """The valid filters of one request, in a fixed order (so equal filters give equal URLs)."""

    values: dict[str, str] = field(default_factory=dict)
    q: str = ""
    sort: str = "newest"

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> JobFilters:
        values = {}
        for facet in FACETS:
            raw = params.get(facet.name, "")
            if raw in {value for value, _ in facet.choices}:
                values[facet.name] = raw
        q = " ".join(params.get("q", "").replace("\x00", "").split())[:SEARCH_MAX_CHARS]
        sort = params.get("sort", "newest")
        return cls(values=values, q=q, sort=sort if sort in SORTS else "newest")

    def query_string(self, **changes: str | None) -> str:
        """This filter set as a query string, with `changes` applied (None removes a key)."""
        items = {**({"q": self.q} if self.q else {}), **self.values}
        if self.sort != "newest":
            items["sort"] = self.sort
        for key, value in changes.items():
            if value is None:
                items.pop(key, None)
            else:
                items[key] = value
        order = ["q", *FACETS_BY_NAME, "sort", "page"]
        return urlencode([(key, items[key]) for key in order if key in items])

    @property
    def is_empty(self) -> bool:
        return not self.values and not self.q

    def matches(self, *, without: str | None = None) -> Q:
        condition = Q()
        for name, value in self.values.items():
            if name != without:
                condition &= FACETS_BY_NAME[name].match(value)
        return condition

    def describe(self) -> str:
        """In words, for an alert's name: "CPC · Remote · 'auditor'"."""
        parts = []
        for name, value in self.values.items():
            facet = FACETS_BY_NAME[name]
            label = dict(facet.choices)[value]
            parts.append(f"{facet.label}: {label}" if name in ("posted", "state") else label)
        if self.q:
            parts.append(f"“{self.q}”")
        return " · ".join(parts) or "All jobs"


def _search_query(q: str) -> SearchQuery:
    return SearchQuery(q, search_type="websearch", config="english")


def jobs_matching(filters: JobFilters, *, base=None):
    """The listed jobs these filters select, sorted as asked (in SQL: for alerts and checks)."""
    queryset = base if base is not None else Job.objects.live()
    if filters.q:
        queryset = queryset.filter(search_vector=_search_query(filters.q))
    queryset = queryset.filter(filters.matches())
    if filters.sort == "pay":
        return queryset.order_by(F("pay_max_annual").desc(), "-posted_at", "-id")
    return queryset.order_by("-posted_at", "-id")


# --- The in-process index ----------------------------------------------------------------------


def board_changed() -> None:
    """Tell every process that the listed jobs may have changed (called on every job save)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


@dataclass
class BoardIndex:
    version: str | None
    day: datetime.date
    built: float
    ids: list[int]  # newest first; a job's bit is its place here
    rows: list[JobRow]
    stem: str
    position: dict[int, int]
    posted_desc: list[float]  # -timestamp, ascending, for bisecting "posted within"
    masks: dict[tuple[str, str], int]
    pay_order: list[int]  # places, highest pay first
    all: int
    searches: OrderedDict[str, int] = field(default_factory=OrderedDict)
    cards: dict[int, JobCard] = field(default_factory=dict)

    def card(self, place: int) -> JobCard:
        # Made when first shown: most jobs are never on a page between two changes.
        card = self.cards.get(place)
        if card is None:
            card = self.cards[place] = JobCard.from_row(self.rows[place], self.stem)
        return card

    @classmethod
    def build(cls, *, version: str | None, day: datetime.date) -> BoardIndex:
        posted = Coalesce(F("posted_at"), F("created_at"))
        epoch = Func(posted, template="extract(epoch from %(expressions)s)::float8")
        rows = [
            JobRow(*values)
            for values in Job.objects.live(today=day)
            .order_by(posted.desc(), "-id")
            .annotate(posted_ts=epoch)
            .values_list(*JobRow._fields)
        ]
        # One row of "0"/"1" characters per filter value, turned into an int at the end:
        # setting bits on a growing int would copy it for every job.
        bits: dict[tuple[str, str], bytearray] = {}
        for facet in FACETS:
            if facet.values_of is not None:
                for value, _label in facet.choices:
                    bits[(facet.name, value)] = bytearray(b"0" * len(rows))
        for place, row in enumerate(rows):
            for facet in FACETS:
                if facet.values_of is not None:
                    for value in facet.values_of(row):
                        bits[(facet.name, value)][place] = 0x31
        stem = reverse("careers:job_list")
        pay_order = sorted(range(len(rows)), key=lambda place: (-rows[place].pay_max_annual, place))
        return cls(
            version=version,
            day=day,
            built=time.monotonic(),
            ids=[row.pk for row in rows],
            rows=rows,
            stem=stem,
            position={row.pk: place for place, row in enumerate(rows)},
            posted_desc=[-row.posted_ts for row in rows],
            masks={key: _to_int(row_bits) for key, row_bits in bits.items()},
            pay_order=pay_order,
            all=(1 << len(rows)) - 1,
        )

    def search_mask(self, q: str) -> int:
        """The listed jobs matching `q` in Postgres full-text search, as a bit set.

        Kept per index (so until the board changes) for the most recent searches: a broad
        search reads most rows, and people repeat the same few searches.
        """
        mask = self.searches.get(q)
        if mask is not None:
            self.searches.move_to_end(q)
            return mask
        bits = bytearray(b"0" * len(self.ids))
        found = (
            Job.objects.live(today=self.day)
            .filter(search_vector=_search_query(q))
            .values_list("pk", flat=True)
        )
        for pk in found:
            place = self.position.get(pk)
            if place is not None:
                bits[place] = 0x31
        mask = _to_int(bits)
        self.searches[q] = mask
        if len(self.searches) > SEARCHES_KEPT:
            self.searches.popitem(last=False)
        return mask

    def mask(self, name: str, value: str) -> int:
        if name == "posted":
            cutoff = -_posted_cutoff(value).timestamp()
            return (1 << bisect.bisect_right(self.posted_desc, cutoff)) - 1
        return self.masks[(name, value)]


def _to_int(bits: bytearray) -> int:
    """Place i of `bits` ("0" or "1") becomes bit i of the int."""
    return int(bits[::-1].decode() or "0", 2)


_index: BoardIndex | None = None
_index_lock = threading.Lock()


def board_index() -> BoardIndex:
    global _index
    version = cache.get(VERSION_KEY)
    day = timezone.localdate()
    index = _index
    if (
        index is None
        or index.version != version
        or index.day != day
        or time.monotonic() - index.built > INDEX_MAX_AGE_SECONDS
    ):
        with _index_lock:
            index = BoardIndex.build(version=version, day=day)
            _index = index
    return index


@dataclass
class FacetCounts:
    facet: Facet
    selected: str
    options: list[tuple[str, str, int]]  # value, label, count

    def options_html(self) -> SafeString:
        """The <option>s of this filter's <select>: values that match no job are left out.

        Built here rather than in the template: a hundred options through the template
        engine cost more than the rest of the page.
        """
        return format_html_join(
            "",
            '<option value="{}"{}>{} ({})</option>',
            (
                (value, " selected" if value == self.selected else "", label, f"{count:,}")
                for value, label, count in self.options
                if count or value == self.selected
            ),
        )


@dataclass
class BoardPage:
    total: int
    facets: list[FacetCounts]
    cards: list[JobCard]  # this page's jobs, in order

    @property
    def job_ids(self) -> list[int]:
        return [card.pk for card in self.cards]


def board_page(filters: JobFilters, *, page: int, per_page: int) -> BoardPage:
    """The number of results, each filter value's count, and the ids of one page of results."""
    index = board_index()
    base = index.search_mask(filters.q) if filters.q else index.all
    chosen = {name: index.mask(name, value) for name, value in filters.values.items()}

    def others(without: str | None) -> int:
        mask = base
        for name, value_mask in chosen.items():
            if name != without:
                mask &= value_mask
        return mask

    facets = []
    for facet in FACETS:
        rest = others(facet.name)
        options = [
            (value, label, (rest & index.mask(facet.name, value)).bit_count())
            for value, label in facet.choices
        ]
        facets.append(FacetCounts(facet, filters.values.get(facet.name, ""), options))

    results = others(None)
    bits = bin(results)[:1:-1]  # bits[place] == "1" when the job at `place` is a result
    start, wanted = (page - 1) * per_page, []
    if filters.sort == "pay":
        seen = 0
        for place in index.pay_order:
            if place < len(bits) and bits[place] == "1":
                if seen >= start:
                    wanted.append(index.card(place))
                    if len(wanted) == per_page:
                        break
                seen += 1
    else:  # newest first: places are in that order already
        place, seen = -1, 0
        while len(wanted) < per_page:
            place = bits.find("1", place + 1)
            if place < 0:
                break
            if seen >= start:
                wanted.append(index.card(place))
            seen += 1
    return BoardPage(results.bit_count(), facets, wanted)
