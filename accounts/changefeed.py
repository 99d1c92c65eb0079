"""The change feed of an account's favourites: what each import changed for the codes it
keeps, grouped by import, newest first, worded for the page.

Rules only; views call these functions. The changes themselves are recorded by the importers
(codes/changes.py). What a change may show follows the code page: its values (NCCI pairs, MUE
values, RVUs and payment, the official descriptor) only for codes the account may read
without spending a view (accounts/quota.py decides); for the others, the kind of change, the
short descriptor a gated page shows too, and the links to the page, metered as usual.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Q

from accounts import quota
from accounts.models import MyCode
from codes.changes import figure_rows, kinds_summary
from codes.models import Code, CodeChange, ImportRun, MueValue, NcciEdit

Kind = CodeChange.Kind
RUNS_PER_PAGE = 10
SHOWN_PER_CODE = 30  # a code's changes in one import shown one by one; the page has the rest
DESCRIPTOR_NAMES = {
    "short": "Short descriptor",
    "medium": "Medium descriptor",
    "long": "Official descriptor",
}


@dataclass(frozen=True)
class ChangeWords:
    """One change as the page says it."""

    change: CodeChange
    title: str
    lines: list[str] = field(default_factory=list)
    figures: list[tuple[str, str | None, str | None, Decimal | None]] = field(default_factory=list)

    @property
    def link_before(self) -> str:
        return self.change.page_url(self.change.effective_before)

    @property
    def link_after(self) -> str:
        return self.change.page_url(self.change.effective_after)


@dataclass
class CodeChanges:
    """One code's changes in one import."""

    system: str
    code: str
    page_url: str
    short_descriptor: str
    readable: bool
    favourite: bool
    changes: list[ChangeWords] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return kinds_summary(self.kinds)

    @property
    def more(self) -> int:
        return len(self.kinds) - len(self.changes)


@dataclass
class RunChanges:
    run: ImportRun
    codes: list[CodeChanges]

    @property
    def editions(self) -> tuple[str, str]:
        first = self.codes[0].changes[0].change if self.codes[0].changes else None
        return (first.edition_before, first.edition_after) if first else ("", "")


def favourite_codes(*, user) -> list[Code]:
    """The account's favourites, in its order."""
    rows = MyCode.objects.filter(user=user).favourites().select_related("code__system")
    return [row.code for row in rows]


def feed_keys(codes: Iterable[Code]) -> list[tuple[str, str]]:
    return [(code.system.slug, code.code) for code in codes]


def feed_changes(*, user):
    """Every recorded change for the account's favourites (and their ICD-10-CM categories)."""
    return CodeChange.objects.for_codes(feed_keys(favourite_codes(user=user)))


@dataclass
class FeedPage:
    page: Page
    runs: list[RunChanges]
    favourites: int

    @property
    def period_label(self) -> str:
        """When an opened code stays open: "this month" (the code pages' period)."""
        return {"month": "this month", "week": "this week", "day": "today"}[settings.QUOTA_PERIOD]


def feed_page(*, user, number: str | int | None) -> FeedPage:
    """One page of imports that changed something for the account's favourites, newest
    first, with their changes grouped by code and worded. A page number out of range gives
    the last page."""
    favourites = favourite_codes(user=user)
    changes = CodeChange.objects.for_codes(feed_keys(favourites))
    runs = ImportRun.objects.filter(pk__in=changes.values("run")).order_by("-started_at", "-pk")
    page = Paginator(runs, RUNS_PER_PAGE).get_page(number)
    if not page.object_list:
        return FeedPage(page, [], len(favourites))
    rows = list(
        changes.filter(run__in=list(page.object_list)).order_by(
            "run", "system", "code", "kind", "id"
        )
    )
    codes = _codes_of(rows)
    readable = quota.codes_readable_without_spending(
        user=user, code_ids=[code.pk for code in codes.values()]
    )
    favourite_keys = {(code.system.slug, code.code) for code in favourites}
    grouped: dict[int, dict[tuple[str, str], CodeChanges]] = {}
    for change in rows:
        key = (change.system, change.code)
        per_code = grouped.setdefault(change.run_id, {})
        entry = per_code.get(key)
        if entry is None:
            code = codes.get(key)
            entry = per_code[key] = CodeChanges(
                system=change.system,
                code=change.code,
                page_url=change.page_url(None),
                short_descriptor=code.short_descriptor if code else "",
                readable=code is not None and code.pk in readable,
                favourite=key in favourite_keys,
            )
        entry.kinds.append(change.kind)
        if len(entry.changes) < SHOWN_PER_CODE:
            entry.changes.append(change_words(change, readable=entry.readable))
    result = [
        RunChanges(
            run=run,
            codes=sorted(
                grouped[run.pk].values(), key=lambda c: (not c.favourite, c.system, c.code)
            ),
        )
        for run in page.object_list
        if run.pk in grouped
    ]
    return FeedPage(page, result, len(favourites))


def _codes_of(rows: list[CodeChange]) -> dict[tuple[str, str], Code]:
    """The codes the changes name, as the site has them (an NCCI code may be missing)."""
    wanted: dict[str, set[str]] = {}
    for change in rows:
        wanted.setdefault(change.system, set()).add(change.code)
    found = Q()
    for system, names in wanted.items():
        found |= Q(system__slug=system, code__in=names)
    return {
        (code.system.slug, code.code): code
        for code in Code.objects.filter(found)
        .select_related("system")
        .only("id", "code", "short_descriptor", "system__slug")
    }


# --- Wording -----------------------------------------------------------------------------------


def _indicator(value: str | None) -> str:
    if value is None:
        return ""
    return NcciEdit.Indicator(value).label if value in NcciEdit.Indicator.values else value


def _adjudication(value: int | None) -> str:
    if value is None:
        return ""
    return (
        MueValue.Adjudication(value).label if value in MueValue.Adjudication.values else str(value)
    )


def _before_after(before: dict, after: dict, name: str, label) -> str:
    return f"{label(before.get(name))} → {label(after.get(name))}"


def _pair(change: CodeChange) -> str:
    if change.column == 1:
        return f"{change.code} (column 1) with {change.other_code} (column 2)"
    return f"{change.other_code} (column 1) with {change.code} (column 2)"


def change_words(change: CodeChange, *, readable: bool) -> ChangeWords:
    """A change in words: its values only when `readable` (see the module's docstring)."""
    kind = change.kind
    before, after = change.before or {}, change.after or {}
    if kind in (Kind.DESCRIPTOR_ADDED, Kind.ICD_ADDED):
        return ChangeWords(
            change,
            f"New code: {after.get('short_descriptor', change.code)}",
            _descriptor_lines(after, readable),
        )
    if kind in (Kind.DESCRIPTOR_DELETED, Kind.ICD_RETIRED):
        return ChangeWords(change, f"Deleted: {before.get('short_descriptor', change.code)}")
    if kind == Kind.DESCRIPTOR_REVISED:
        return _revised(change, before, after, readable)
    if not readable:
        return ChangeWords(
            change, change.get_kind_display(), ["Open the code page to see the details."]
        )
    if kind == Kind.NCCI_ADDED:
        return ChangeWords(
            change,
            f"NCCI edit added: {_pair(change)}",
            [f"Modifier indicator {_indicator(after.get('modifier_indicator'))}"],
        )
    if kind == Kind.NCCI_DELETED:
        return ChangeWords(
            change,
            f"NCCI edit deleted: {_pair(change)}",
            [f"It had modifier indicator {_indicator(before.get('modifier_indicator'))}"],
        )
    if kind == Kind.NCCI_INDICATOR:
        return ChangeWords(
            change,
            f"NCCI modifier indicator changed: {_pair(change)}",
            [_before_after(before, after, "modifier_indicator", _indicator)],
        )
    if kind == Kind.MUE_CHANGED:
        return _mue(change, before, after)
    return _rvu(change)


def _descriptor_lines(values: dict, readable: bool) -> list[str]:
    if not readable or not values.get("long_descriptor"):
        return []
    return [f"Official descriptor: {values['long_descriptor']}"]


def _revised(change: CodeChange, before: dict, after: dict, readable: bool) -> ChangeWords:
    lines = []
    for name in ("short_descriptor", "medium_descriptor", "long_descriptor"):
        if name not in after:
            continue
        # A gated page shows the short descriptor: so may the feed. The others are metered.
        if readable or name == "short_descriptor":
            label = DESCRIPTOR_NAMES[name.removesuffix("_descriptor")]
            lines.append(f"{label}: “{before.get(name, '')}” → “{after[name]}”")
    if not readable and ("long_descriptor" in after or "medium_descriptor" in after):
        lines.append("Open the code page to read the revised official descriptor.")
    return ChangeWords(change, "Descriptor revised", lines)


def _units(value: int) -> str:
    return f"{value} unit" if value == 1 else f"{value} units"


def _mue(change: CodeChange, before: dict, after: dict) -> ChangeWords:
    service = f" ({change.field})" if change.field else ""
    if not before:
        return ChangeWords(
            change,
            f"MUE added{service}",
            [f"{_units(after['value'])}, {_adjudication(after['adjudication'])}"],
        )
    if not after:
        return ChangeWords(
            change,
            f"MUE dropped{service}",
            [f"It was {_units(before['value'])}, {_adjudication(before['adjudication'])}"],
        )
    lines = []
    if before["value"] != after["value"]:
        lines.append(f"Value: {before['value']} → {_units(after['value'])}")
    if before["adjudication"] != after["adjudication"]:
        indicators = _before_after(before, after, "adjudication", _adjudication)
        lines.append(f"Adjudication indicator: {indicators}")
    return ChangeWords(change, f"MUE changed{service}", lines)


def _rvu(change: CodeChange) -> ChangeWords:
    line = f" (modifier {change.field} line)" if change.field else ""
    if change.before is None:
        return ChangeWords(change, f"Now in the fee schedule{line}", figures=figure_rows(change))
    if change.after is None:
        return ChangeWords(
            change, f"No longer in the fee schedule{line}", figures=figure_rows(change)
        )
    title = f"RVUs and payment changed{line}"
    if change.percent is not None:
        title += f": national payment {'+' if change.percent > 0 else ''}{change.percent}%"
    return ChangeWords(change, title, figures=figure_rows(change))
