"""What the published edits say about several codes at once: NCCI procedure-to-procedure pairs
among them, their MUE limits, and the primary codes of the add-on codes among them.

The claim check and the assistant ask about a whole set of codes; each function here answers
in one query whatever the number of codes or pairs, and each fact carries the edition it came
from. A code page (one code) uses `codes.knowledge.edits_as_of`.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import CharField, DateField, F, Q, Value
from django.db.models.functions import Cast, Coalesce

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


def _on_each_day(query, days: Collection[datetime.date], columns: tuple[str, ...], kind: str):
    """`query(day)` for each day, tagged with the day and `kind`, as one UNION ALL: the edition
    that governs a date of service differs from date to date, so each row says on which of a
    claim's days it is in force."""
    parts = [
        query(day)
        .order_by()
        .annotate(day=Value(day, output_field=DateField()), kind=Value(kind))
        .values_list(*columns, "day", "kind")
        for day in sorted(set(days))
    ]
    return parts


def _edition_text():
    # The edition's label ("NCCI PTP v30.1, effective 2024-04-01"); "" for a row an editor
    # entered by hand, which has no edition.
    return Coalesce(F("edition__label"), Value(""), output_field=CharField())


def _grouped(rows: Iterable[tuple], make) -> list:
    """One fact per distinct row, with the set of days it is in force on."""
    days: dict[tuple, set[datetime.date]] = {}
    for row in rows:
        days.setdefault(tuple(row[:8]), set()).add(row[8])
    return [make(row, frozenset(found)) for row, found in days.items()]


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
    days: frozenset[datetime.date] = frozenset()  # the asked-for days it is in force on

    def in_force_on(self, day: datetime.date) -> bool:
        return day in self.days

    @property
    def edition_label(self) -> str:
        """The edition as a coder cites it: the file's label, or the edit's own dates."""
        if self.edition:
            return self.edition
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
    parts = _ptp_rows(keys, days=days, setting=setting)
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return [edit for edit in _grouped(rows, _ptp) if edit.column1 != edit.column2]


PTP_COLUMNS = (
    "column1",
    "column2",
    "effective_date",
    "deletion_date",
    "modifier_indicator",
    "rationale",
    "setting",
    "edition_text",
)
MUE_COLUMNS = (
    "code",
    "value_text",
    "effective_date",
    "deletion_date",
    "adjudication_text",
    "rationale",
    "service",
    "edition_text",
)


def _ptp_rows(keys: list[str], *, days: Collection[datetime.date], setting: str) -> list:
    # Eight columns and the day, so that the rows can share a UNION with the MUE rows
    # (`edits_among_dates`).
    return _on_each_day(
        lambda day: (
            NcciEdit.objects.as_of(day)
            .filter(column1__in=keys, column2__in=keys, setting=setting)
            .annotate(edition_text=_edition_text())
        ),
        days,
        PTP_COLUMNS,
        "ptp",
    )


def _ptp(row: tuple, days: frozenset[datetime.date] = frozenset()) -> PtpEdit:
    return PtpEdit(*row[:7], edition=row[7] or "", days=days)


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
    fields = PTP_COLUMNS
    found = (
        NcciEdit.objects.as_of(day)
        .filter(Q(column1=key) | Q(column2=key), setting=setting)
        .annotate(edition_text=_edition_text())
    )
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
    return [_ptp(row, frozenset([day])) for row in rows[:limit] if row[0] != row[1]]


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
    days: frozenset[datetime.date] = frozenset()  # the asked-for days it is in force on

    def in_force_on(self, day: datetime.date) -> bool:
        return day in self.days

    @property
    def is_line_edit(self) -> bool:
        return self.adjudication == MueValue.Adjudication.LINE

    @property
    def edition_label(self) -> str:
        if self.edition:
            return self.edition
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
    parts = _mue_rows(keys, days=days, service=service)
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return _grouped(rows, _mue)


def _mue_rows(keys: list[str], *, days: Collection[datetime.date], service: str) -> list:
    # The same eight columns, in the same types, as `_ptp_rows`: code, value, indicator and
    # rationale stand in the places of column 1, column 2, modifier indicator and rationale.
    return _on_each_day(
        lambda day: (
            MueValue.objects.as_of(day)
            .filter(code__in=keys, service=service)
            .annotate(
                value_text=Cast("value", CharField()),
                adjudication_text=Cast("adjudication", CharField()),
                edition_text=_edition_text(),
            )
        ),
        days,
        MUE_COLUMNS,
        "mue",
    )


def _mue(row: tuple, days: frozenset[datetime.date] = frozenset()) -> MueRow:
    code, value, start, end, adjudication, rationale, service, edition = row[:8]
    return MueRow(
        code, int(value), int(adjudication), rationale, service, start, end, edition or "", days
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
    parts = _ptp_rows(keys, days=days, setting=setting) + _mue_rows(
        keys, days=days, service=setting
    )
    ptp_rows, mue_rows = [], []
    for row in parts[0].union(*parts[1:], all=True):
        (mue_rows if row[9] == "mue" else ptp_rows).append(row)
    edits = [edit for edit in _grouped(ptp_rows, _ptp) if edit.column1 != edit.column2]
    return edits, _grouped(mue_rows, _mue)


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
