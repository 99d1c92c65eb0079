"""The list page's filters, their counts, full-text search and sorting.

Filters come from the query string; a value that is not one of a filter's choices is ignored
(the page shows the jobs as if it were absent), so any URL someone shares still works.

Counts: each value of a filter shows how many jobs it would match together with the *other*
filters in force — choosing it gives exactly that many results. Every count, and the total,
comes from one aggregate query with a `COUNT(*) FILTER (WHERE …)` per value: one pass over
the listed jobs, whatever the number of filters.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Count, F, Q
from django.utils import timezone

from careers.choices import Arrangement, Credential, EmploymentType, Setting, Specialty, State
from careers.models import Job

SEARCH_MAX_CHARS = 200
PAY_FLOORS = [30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 100_000]
POSTED_WITHIN_DAYS = [1, 3, 7, 14, 30]


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    choices: list[tuple[str, str]]
    match: Callable[[str], Q]
    any_label: str = "Any"


def _state_match(value: str) -> Q:
    # A remote job with no state list hires anywhere; one with a list hires in those states.
    return (
        Q(state=value, arrangement__in=[Arrangement.ONSITE, Arrangement.HYBRID])
        | Q(arrangement=Arrangement.REMOTE, remote_states=[])
        | Q(arrangement=Arrangement.REMOTE, remote_states__contains=[value])
    )


def _posted_within(value: str) -> Q:
    return Q(posted_at__gte=timezone.now() - datetime.timedelta(days=int(value)))


FACETS: list[Facet] = [
    Facet(
        "credential",
        "Credential",
        [(c.value, c.value) for c in Credential],
        lambda v: Q(credentials_required__contains=[v]) | Q(credentials_preferred__contains=[v]),
    ),
    Facet("setting", "Setting", list(Setting.choices), lambda v: Q(setting=v)),
    Facet(
        "specialty", "Specialty", list(Specialty.choices), lambda v: Q(specialties__contains=[v])
    ),
    Facet("arrangement", "Arrangement", list(Arrangement.choices), lambda v: Q(arrangement=v)),
    Facet("state", "State (on site, or hiring remotely in)", list(State.choices), _state_match),
    Facet(
        "min_pay",
        "Pay from (a year; hourly × 2,080)",
        [(str(n), f"${n:,}+") for n in PAY_FLOORS],
        lambda v: Q(pay_min_annual__gte=Decimal(v)),
    ),
    Facet("type", "Employment type", list(EmploymentType.choices), lambda v: Q(employment_type=v)),
    Facet(
        "cpc_a",
        "CPC-A welcome",
        [("1", "CPC-A welcome")],
        lambda v: Q(cpc_a_welcome=True),
        any_label="",
    ),
    Facet(
        "posted",
        "Posted within",
        [(str(d), "the last day" if d == 1 else f"the last {d} days") for d in POSTED_WITHIN_DAYS],
        _posted_within,
        any_label="Any time",
    ),
]
FACETS_BY_NAME = {facet.name: facet for facet in FACETS}

SORTS = {"newest": "Newest first", "pay": "Highest pay first"}
RELEVANCE = "relevance"


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
        default_sort = RELEVANCE if q else "newest"
        sort = params.get("sort", default_sort)
        if sort not in SORTS and not (sort == RELEVANCE and q):
            sort = default_sort
        return cls(values=values, q=q, sort=sort)

    def query_string(self, **changes: str | None) -> str:
        """This filter set as a query string, with `changes` applied (None removes a key)."""
        items = {**({"q": self.q} if self.q else {}), **self.values}
        default_sort = RELEVANCE if self.q else "newest"
        if self.sort != default_sort:
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


def jobs_search(queryset, q: str, *, ranked: bool = False):
    """Full text over title, employer and description (web-search syntax: "quotes", -not, or)."""
    if not q:
        return queryset
    query = SearchQuery(q, search_type="websearch", config="english")
    queryset = queryset.filter(search_vector=query)
    return queryset.annotate(rank=SearchRank(F("search_vector"), query)) if ranked else queryset


def jobs_matching(filters: JobFilters, *, base=None):
    """The listed jobs these filters select, sorted as asked."""
    base = base if base is not None else Job.objects.live()
    queryset = jobs_search(base, filters.q, ranked=filters.sort == RELEVANCE)
    queryset = queryset.filter(filters.matches())
    if filters.sort == RELEVANCE:
        return queryset.order_by("-rank", "-posted_at", "-id")
    if filters.sort == "pay":
        return queryset.order_by(F("pay_max_annual").desc(), "-posted_at", "-id")
    return queryset.order_by("-posted_at", "-id")


@dataclass
class FacetCounts:
    facet: Facet
    selected: str
    options: list[tuple[str, str, int]]  # value, label, count


def jobs_counts(filters: JobFilters) -> tuple[int, list[FacetCounts]]:
    """The number of results, and for each filter value the number it would give; one query."""
    aggregates = {"total": Count("pk", filter=filters.matches())}
    for i, facet in enumerate(FACETS):
        others = filters.matches(without=facet.name)
        for j, (value, _label) in enumerate(facet.choices):
            aggregates[f"f{i}_{j}"] = Count("pk", filter=others & facet.match(value))
    # A job that fails two filters counts nowhere: leave it out of the pass.
    near = Q()
    if len(filters.values) >= 2:
        near = Q(pk__in=[])
        for name in filters.values:
            near |= filters.matches(without=name)
    counts = jobs_search(Job.objects.live(), filters.q).filter(near).aggregate(**aggregates)
    facets = []
    for i, facet in enumerate(FACETS):
        options = [
            (value, label, counts[f"f{i}_{j}"]) for j, (value, label) in enumerate(facet.choices)
        ]
        facets.append(FacetCounts(facet, filters.values.get(facet.name, ""), options))
    return counts["total"], facets
