"""What the published edits say about several codes at once: NCCI procedure-to-procedure pairs
among them, their MUE limits, and the primary codes of the add-on codes among them.

The claim check and the assistant ask about a whole set of codes; each function here answers
in one query whatever the number of codes or pairs, and each fact carries the edition it came
from. A code page (one code) uses `codes.knowledge.edits_as_of`.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import reduce

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast

from codes.knowledge import PROCEDURE_SYSTEMS
from codes.models import Code, MueValue, NcciEdit

# The NCCI-associated modifiers: on a pair whose edit has modifier indicator 1, one of these on
# either line may bypass the edit when the services were truly distinct.
NCCI_ASSOCIATED_MODIFIERS: frozenset[str] = frozenset(
    ["59", "XE", "XS", "XP", "XU"]
    + [f"E{n}" for n in range(1, 5)]
    + ["FA"]
    + [f"F{n}" for n in range(1, 10)]
    + ["TA"]
    + [f"T{n}" for n in range(1, 10)]
    + ["LT", "RT", "LC", "LD", "RC", "LM", "RI"]
    + ["24", "25", "27", "57", "58", "78", "79", "91"]
)


def _has_field(model, name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())


# The real-data importers label each row with its edition; older databases lack the column.
NCCI_HAS_EDITION = _has_field(NcciEdit, "edition")
MUE_HAS_EDITION = _has_field(MueValue, "edition")


def _in_force_on_any(model, days: Collection[datetime.date]):
    """Rows in force on at least one of `days`, by the model's own `as_of` rule, in one query:
    a claim's lines can have several dates of service."""
    return reduce(operator.or_, (model.objects.as_of(day) for day in sorted(set(days))))


def _in_force_on(
    day: datetime.date, effective: datetime.date | None, deletion: datetime.date | None
) -> bool:
    # The same rule as AsOfQuerySet.as_of, for telling apart the days of one fetched set.
    return (effective is None or effective <= day) and (deletion is None or deletion >= day)


# --- NCCI procedure-to-procedure edits -----------------------------------------------------------


@dataclass(frozen=True)
class PtpEdit:
    """One NCCI PTP edit: `column2` is not paid with `column1` on the same date of service
    unless the modifier indicator lets a modifier bypass it."""

    column1: str
    column2: str
    effective_date: datetime.date | None
    deletion_date: datetime.date | None
    modifier_indicator: str
    rationale: str
    setting: str
    edition: str

    def in_force_on(self, day: datetime.date) -> bool:
        return _in_force_on(day, self.effective_date, self.deletion_date)

    @property
    def edition_label(self) -> str:
        """The edition as a coder cites it: the file's label, or the edit's own dates."""
        if self.edition:
            return f"NCCI PTP {self.edition}"
        if self.effective_date is None:
            return f"NCCI PTP {self.setting} edits (no effective date on file)"
        return f"NCCI PTP {self.setting} edits, edit effective {self.effective_date.isoformat()}"


def ptp_edits_among_dates(
    codes: Collection[str],
    *,
    days: Collection[datetime.date],
    setting: str = NcciEdit.Setting.PRACTITIONER,
) -> list[PtpEdit]:
    """Every PTP edit between two of `codes` (either order) in force on any of `days`, in one
    query. Each edit says on which day it applies (`in_force_on`)."""
    keys = sorted({code.upper() for code in codes})
    if len(keys) < 2 or not days:
        return []
    return [_ptp(row) for row in _ptp_rows(keys, days=days, setting=setting) if row[0] != row[1]]


PTP_COLUMNS = (
    "column1",
    "column2",
    "effective_date",
    "deletion_date",
    "modifier_indicator",
    "rationale",
    "setting",
    "edition_label",
)
MUE_COLUMNS = (
    "code",
    "value_text",
    "effective_date",
    "deletion_date",
    "adjudication_text",
    "rationale",
    "service",
    "edition_label",
)


def _ptp_rows(keys: list[str], *, days: Collection[datetime.date], setting: str):
    # Eight columns, the last the edition ("" until the table has one), so that the rows can
    # share a UNION with the MUE rows (`edits_among_dates`).
    edition = F("edition") if NCCI_HAS_EDITION else Value("")
    return (
        _in_force_on_any(NcciEdit, days)
        .filter(
            column1__in=keys,
            column2__in=keys,
            setting=setting,
        )
        .order_by()
        .annotate(edition_label=Cast(edition, CharField()))
        .values_list(*PTP_COLUMNS)
    )


def _ptp(row: tuple) -> PtpEdit:
    return PtpEdit(*row[:7], edition=row[7] or "")


def ptp_edits_among(
    codes: Collection[str],
    *,
    day: datetime.date,
    setting: str = NcciEdit.Setting.PRACTITIONER,
) -> list[PtpEdit]:
    """Every PTP edit between two of `codes`, in either order, in force on `day`: one query."""
    return ptp_edits_among_dates(codes, days=[day], setting=setting)


def ptp_edits_with(
    code: str,
    *,
    day: datetime.date,
    indicator: str | None = None,
    limit: int = 10,
    columns: tuple[int, ...] = (1, 2),
    setting: str = NcciEdit.Setting.PRACTITIONER,
) -> list[PtpEdit]:
    """Up to `limit` PTP edits with `code` in force on `day`, in the `columns` asked for (only
    those with modifier indicator `indicator` when given), column 1 edits first: one query.
    A code can have thousands of edits; the assistant names a few and links to the code page
    for the rest."""
    key = code.upper()
    fields = [
        "column1",
        "column2",
        "effective_date",
        "deletion_date",
        "modifier_indicator",
        "rationale",
        "setting",
    ]
    if NCCI_HAS_EDITION:
        fields.append("edition")
    found = NcciEdit.objects.as_of(day).filter(Q(column1=key) | Q(column2=key), setting=setting)
    if indicator is not None:
        found = found.filter(modifier_indicator=indicator)
    # Each column on its own index, each stopping at `limit` rows: an E/M code is column 2 of
    # thousands of edits, and sorting them all to name a few would read them all.
    found = found.order_by()
    sides = []
    if 1 in columns:
        sides.append(found.filter(column1=key).values_list(*fields)[:limit])
    if 2 in columns:
        sides.append(found.filter(column2=key).exclude(column1=key).values_list(*fields)[:limit])
    if not sides:
        return []
    rows = sides[0].union(*sides[1:], all=True) if len(sides) > 1 else sides[0]
    rows = sorted(rows, key=lambda row: (row[0] != key, row[0], row[1]))
    return [
        PtpEdit(*row[:7], edition=str(row[7] or "") if NCCI_HAS_EDITION else "")
        for row in rows[:limit]
        if row[0] != row[1]
    ]


def bypass_modifiers(modifiers: Iterable[str]) -> list[str]:
    """The NCCI-associated modifiers among `modifiers`, in the order given."""
    return [modifier for modifier in modifiers if modifier in NCCI_ASSOCIATED_MODIFIERS]


# --- MUE -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MueRow:
    code: str
    value: int
    adjudication: int
    rationale: str
    service: str
    effective_date: datetime.date | None
    deletion_date: datetime.date | None
    edition: str

    def in_force_on(self, day: datetime.date) -> bool:
        return _in_force_on(day, self.effective_date, self.deletion_date)

    @property
    def is_line_edit(self) -> bool:
        return self.adjudication == MueValue.Adjudication.LINE

    @property
    def edition_label(self) -> str:
        if self.edition:
            return f"MUE {self.edition}"
        if self.effective_date is None:
            return f"MUE {self.service} values (no effective date on file)"
        return f"MUE {self.service} values effective {self.effective_date.isoformat()}"


def mue_rows_for_dates(
    codes: Collection[str],
    *,
    days: Collection[datetime.date],
    service: str = MueValue.Service.PRACTITIONER,
) -> list[MueRow]:
    """The MUE rows of `codes` in force on any of `days`: one query."""
    keys = sorted({code.upper() for code in codes})
    if not keys or not days:
        return []
    return [_mue(row) for row in _mue_rows(keys, days=days, service=service)]


def _mue_rows(keys: list[str], *, days: Collection[datetime.date], service: str):
    # The same eight columns, in the same types, as `_ptp_rows`: code, value, indicator and
    # rationale stand in the places of column 1, column 2, modifier indicator and rationale.
    edition = F("edition") if MUE_HAS_EDITION else Value("")
    return (
        _in_force_on_any(MueValue, days)
        .filter(code__in=keys, service=service)
        .order_by()
        .annotate(
            value_text=Cast("value", CharField()),
            adjudication_text=Cast("adjudication", CharField()),
            edition_label=Cast(edition, CharField()),
        )
        .values_list(*MUE_COLUMNS)
    )


def _mue(row: tuple) -> MueRow:
    code, value, start, end, adjudication, rationale, service, edition = row
    return MueRow(
        code, int(value), int(adjudication), rationale, service, start, end, edition or ""
    )


def edits_among_dates(
    codes: Collection[str],
    *,
    days: Collection[datetime.date],
    setting: str = NcciEdit.Setting.PRACTITIONER,
) -> tuple[list[PtpEdit], list[MueRow]]:
    """`ptp_edits_among_dates` and `mue_rows_for_dates` together, in one UNION query: a claim
    needs both, and on a busy server each round trip costs more than the rows it brings."""
    keys = sorted({code.upper() for code in codes})
    if not keys or not days:
        return [], []
    ptp = _ptp_rows(keys, days=days, setting=setting).annotate(kind=Value("ptp"))
    mue = _mue_rows(keys, days=days, service=setting).annotate(kind=Value("mue"))
    edits: list[PtpEdit] = []
    limits: list[MueRow] = []
    for row in ptp.values_list(*PTP_COLUMNS, "kind").union(
        mue.values_list(*MUE_COLUMNS, "kind"), all=True
    ):
        if row[8] == "mue":
            limits.append(_mue(row[:8]))
        elif row[0] != row[1]:
            edits.append(_ptp(row[:8]))
    return edits, limits


def mue_governing(rows: Iterable[MueRow], *, code: str, day: datetime.date) -> MueRow | None:
    """Of a code's rows in force on `day`, the one with the newest effective date governs."""
    found = [row for row in rows if row.code == code and row.in_force_on(day)]
    if not found:
        return None
    return max(found, key=lambda row: row.effective_date or datetime.date.min)


def mue_limits(
    codes: Collection[str],
    *,
    day: datetime.date,
    service: str = MueValue.Service.PRACTITIONER,
) -> dict[str, MueRow]:
    """Each code's MUE in force on `day` (codes without one are left out): one query."""
    rows = mue_rows_for_dates(codes, days=[day], service=service)
    limits = {}
    for code in {row.code for row in rows}:
        governing = mue_governing(rows, code=code, day=day)
        if governing is not None:
            limits[code] = governing
    return limits


# --- Add-on codes ------------------------------------------------------------------------------


def addon_primaries(codes: Collection[str]) -> dict[str, frozenset[str]]:
    """For each procedure code among `codes` that has primary codes on file, their keys: one
    query over the add-on → primary links (Code.primary_codes)."""
    keys = sorted({code.upper() for code in codes})
    if not keys:
        return {}
    links = Code.primary_codes.through.objects.filter(
        from_code__key__in=keys, from_code__system__slug__in=PROCEDURE_SYSTEMS
    ).values_list("from_code__key", "to_code__key")
    found: dict[str, set[str]] = {}
    for addon, primary in links:
        found.setdefault(addon, set()).add(primary)
    return {addon: frozenset(primaries) for addon, primaries in found.items()}


def procedure_codes(codes: Collection[str]) -> dict[str, Code]:
    """The CPT and HCPCS codes among `codes` (by key), each with `primary_keys`: the keys of
    its primary codes when it is an add-on with primaries on file. One query: the claim check
    needs the codes and their primaries together."""
    keys = sorted({code.upper() for code in codes})
    if not keys:
        return {}
    found = (
        Code.objects.filter(key__in=keys, system__slug__in=PROCEDURE_SYSTEMS)
        .select_related("system")
        .only(
            "code",
            "key",
            "short_descriptor",
            "status",
            "effective_date",
            "end_date",
            "is_addon",
            "system__slug",
            "system__short_name",
            "system__edition",
        )
        .annotate(
            primary_keys=ArrayAgg(
                "primary_codes__key",
                filter=Q(primary_codes__isnull=False),
                default=Value([]),
                distinct=True,
            )
        )
    )
    return {code.key: code for code in found}
