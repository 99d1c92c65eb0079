"""The change feed: what each import changed, per code, between two editions.

Importers call the `changes_record_*` functions inside their transaction, after the run is
recorded and before it commits: a failed import rolls its changes back with everything else,
a dry run has no run and records nothing, and a file imported again finds nothing different,
so it records nothing. The first edition of a kind ever imported records no per-code changes
(everything in it would be "added"). Bulk writes send no signals, so nothing is recorded
behind an importer's back: each calls its function here.

Readers use `CodeChange.objects.for_codes(...)` and the wording helpers below.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction

from codes.models import CodeChange, EditEdition, ImportRun, NcciEdit
from codes.payment import cents

Kind = CodeChange.Kind
HUNDRED = Decimal("100")
PERCENT_PLACES = Decimal("0.01")

# The RvuLine figures a fee schedule change compares, in the order the page lists them.
RVU_FIELDS = (
    "work_rvu",
    "nonfacility_pe_rvu",
    "facility_pe_rvu",
    "mp_rvu",
    "nonfacility_total",
    "facility_total",
    "conversion_factor",
)
PAYMENT_FIELDS = ("nonfacility_payment", "facility_payment")
FIGURE_NAMES = {
    "work_rvu": "work RVU",
    "nonfacility_pe_rvu": "non-facility PE RVU",
    "facility_pe_rvu": "facility PE RVU",
    "mp_rvu": "MP RVU",
    "nonfacility_total": "non-facility total RVUs",
    "facility_total": "facility total RVUs",
    "conversion_factor": "conversion factor",
    "nonfacility_payment": "national payment, non-facility",
    "facility_payment": "national payment, facility",
}


def system_of(code: str) -> str:
    """The system of a code in a CMS edit or fee schedule file: HCPCS Level II codes start
    with a letter, CPT codes with a digit."""
    return "cpt" if code[:1].isdigit() else "hcpcs"


def percent_change(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    """(after − before) / before in percent, to two places (half up); None without a base."""
    if before is None or after is None or before == 0:
        return None
    return ((after - before) / before * HUNDRED).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


# Imports that record changes hold this advisory lock shared for their whole transaction; a
# reader that must not miss a change (the weekly digest) takes it exclusively for a moment.
# Change ids come from a sequence, so without it an import still running could commit ids
# below the highest one a reader has already seen, and the reader would pass over them.
FEED_LOCK = 0x6361_7365  # any constant of our own; advisory locks are per database


def changes_lock_for_import() -> None:
    """Called at the start of an import's transaction; released when it ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [FEED_LOCK])


def changes_settled_through() -> int:
    """The highest change id below which no import still running can add one: waits for the
    imports in progress to end. 0 when there are no changes."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FEED_LOCK])
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {CodeChange._meta.db_table}")
        return cursor.fetchone()[0]


def changes_record(*, run: ImportRun | None, changes: Iterable[CodeChange]) -> int:
    """Write changes built in Python under `run`; none without a run (a dry run)."""
    if run is None:
        return 0
    rows = list(changes)
    for change in rows:
        change.run = run
    CodeChange.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


# --- NCCI procedure-to-procedure edits ---------------------------------------------------------

# A pair is in force on a day when it started by then (a row without its own effective date
# counts from its edition's start) and was not deleted before it: NcciEdit.objects.as_of.
_IN_FORCE = (
    "({t}.effective_date IS NULL OR {t}.effective_date <= %(day_{side})s) "
    "AND ({t}.deletion_date IS NULL OR {t}.deletion_date >= %(day_{side})s)"
)

# Which pairs can have changed: those the importer found differing from the stored edition
# (new lines, other deletion dates or indicators), and those whose own dates put them in or
# out of force between the two editions' starts. Each pair's state is then read on both
# sides, and only a real change is written: one row for each of its two codes, so that a
# favourite in either column finds it with one index look-up.
NCCI_CHANGES_SQL = """
WITH candidates AS (
    SELECT DISTINCT column1, column2 FROM (
        SELECT column1, column2 FROM {differing}
        UNION ALL
        SELECT column1, column2 FROM {staging} AS s
        WHERE (s.deletion_date >= %(day_before)s AND s.deletion_date < %(day_after)s)
           OR (s.effective_date > %(day_before)s AND s.effective_date <= %(day_after)s)
    ) AS found
),
before AS (
    SELECT b.column1, b.column2, min(b.modifier_indicator) AS indicator
    FROM {edits} AS b JOIN candidates AS c ON b.column1 = c.column1 AND b.column2 = c.column2
    WHERE b.edition_id = %(baseline)s AND {before_in_force}
    GROUP BY b.column1, b.column2
),
after AS (
    SELECT s.column1, s.column2, min(s.modifier_indicator) AS indicator
    FROM {staging} AS s JOIN candidates AS c ON s.column1 = c.column1 AND s.column2 = c.column2
    WHERE {after_in_force}
    GROUP BY s.column1, s.column2
),
changed AS (
    SELECT c.column1, c.column2, b.indicator AS before, a.indicator AS after,
        CASE WHEN b.indicator IS NULL THEN 'ncci-added'
             WHEN a.indicator IS NULL THEN 'ncci-deleted'
             ELSE 'ncci-indicator' END AS kind
    FROM candidates AS c
    LEFT JOIN before AS b ON b.column1 = c.column1 AND b.column2 = c.column2
    LEFT JOIN after AS a ON a.column1 = c.column1 AND a.column2 = c.column2
    WHERE b.indicator IS DISTINCT FROM a.indicator
)
INSERT INTO {changes} (run_id, system, code, kind, other_code, "column", field, before, after,
    edition_before, edition_after, effective_before, effective_after)
SELECT %(run)s, CASE WHEN code ~ '^[0-9]' THEN 'cpt' ELSE 'hcpcs' END, code, kind, other_code,
    side, '',
    CASE WHEN before IS NULL THEN NULL ELSE jsonb_build_object('modifier_indicator', before) END,
    CASE WHEN after IS NULL THEN NULL ELSE jsonb_build_object('modifier_indicator', after) END,
    %(edition_before)s, %(edition_after)s, %(day_before)s, %(day_after)s
FROM (
    SELECT column1 AS code, column2 AS other_code, 1 AS side, kind, before, after FROM changed
    UNION ALL
    SELECT column2, column1, 2, kind, before, after FROM changed
) AS per_code
"""


def changes_record_ncci(
    *,
    run: ImportRun | None,
    staging: str,
    differing: str,
    baseline: EditEdition | None,
    edition: EditEdition,
) -> int:
    """Record the pairs added, deleted or given another modifier indicator by `edition`,
    against the pairs in force at the start of `baseline` (the edition before it, or its own
    stored rows when it is imported again). `staging` holds the file's edits and `differing`
    those that differ from the baseline's rows (codes/importers/ncci.py makes both).

    A pair the files do not list at all is not taken as deleted: an edition may come in
    parts imported one by one; CMS lists a deleted edit with its deletion date."""
    if run is None or baseline is None:
        return 0
    sql = NCCI_CHANGES_SQL.format(
        staging=staging,
        differing=differing,
        edits=connection.ops.quote_name(NcciEdit._meta.db_table),
        changes=connection.ops.quote_name(CodeChange._meta.db_table),
        before_in_force=_IN_FORCE.format(t="b", side="before"),
        after_in_force=_IN_FORCE.format(t="s", side="after"),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "run": run.pk,
                "baseline": baseline.pk,
                "day_before": baseline.effective_date,
                "day_after": edition.effective_date,
                "edition_before": baseline.label,
                "edition_after": edition.label,
            },
        )
        return cursor.rowcount


# --- MUE values ----------------------------------------------------------------------------------


def mue_change(
    *,
    code: str,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
    edition_before: EditEdition | None,
    edition_after: EditEdition | None,
    service: str,
) -> CodeChange | None:
    """An MUE whose value or adjudication indicator changed (or that a quarter added or
    dropped); None when both stand, whatever the rationale says."""
    fields = ("value", "adjudication")
    if before and after and all(before[f] == after[f] for f in fields):
        return None
    return CodeChange(
        system=system_of(code),
        code=code,
        kind=Kind.MUE_CHANGED,
        field=service,
        before={f: before[f] for f in (*fields, "rationale")} if before else None,
        after={f: after[f] for f in (*fields, "rationale")} if after else None,
        edition_before=edition_before.label if edition_before else "",
        edition_after=edition_after.label if edition_after else "MUE values without a date",
        effective_before=edition_before.effective_date if edition_before else None,
        effective_after=edition_after.effective_date if edition_after else None,
    )


# --- Fee schedule (PFS) relative values --------------------------------------------------------


RVU_PLACES = Decimal("0.01")
FACTOR_PLACES = Decimal("0.0001")


def _figures(values: Mapping[str, object]) -> dict[str, Decimal | None]:
    # Written as the file has them ("1" or "1.00"), compared and shown as stored.
    figures: dict[str, Decimal | None] = {}
    for name in RVU_FIELDS:
        value = values.get(name)
        places = FACTOR_PLACES if name == "conversion_factor" else RVU_PLACES
        figures[name] = None if value is None else Decimal(value).quantize(places)
    factor = figures["conversion_factor"]
    for total, payment in zip(("nonfacility_total", "facility_total"), PAYMENT_FIELDS, strict=True):
        amount = figures[total]
        figures[payment] = None if amount is None or factor is None else cents(amount * factor)
    return figures


def _as_text(figures: Mapping[str, Decimal | None]) -> dict[str, str | None]:
    return {name: None if value is None else str(value) for name, value in figures.items()}


def rvu_change(
    *,
    code: str,
    modifier: str,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
    edition_before: str,
    edition_after: str,
    effective_before: datetime.date | None,
    effective_after: datetime.date | None,
) -> CodeChange | None:
    """One fee schedule line compared between two releases: the RVUs, their totals and the
    national payment (total × conversion factor, to the cent), each with its percentage;
    None when none of them moved. `percent` carries the headline: the non-facility payment's
    change, or the facility payment's where the line has no non-facility amount."""
    old = _figures(before) if before else None
    new = _figures(after) if after else None
    if old is not None and new is not None and old == new:
        return None
    headline = None
    if old is not None and new is not None:
        headline = percent_change(old["nonfacility_payment"], new["nonfacility_payment"])
        if headline is None:
            headline = percent_change(old["facility_payment"], new["facility_payment"])
    return CodeChange(
        system=system_of(code),
        code=code,
        kind=Kind.RVU_CHANGED,
        field=modifier,
        before=_as_text(old) if old is not None else None,
        after=_as_text(new) if new is not None else None,
        percent=headline,
        edition_before=edition_before,
        edition_after=edition_after,
        effective_before=effective_before,
        effective_after=effective_after,
    )


def pfs_label(edition: str) -> str:
    """How a fee schedule release is cited: "PFS 2025-JAN release"."""
    return f"PFS {edition} release"


# --- Code sets: descriptors, ICD-10-CM codes added and retired ---------------------------------


def descriptor_kind(*, system: str, added: bool) -> str:
    """ICD-10-CM additions and retirements are announced to the whole category; other code
    systems' to the code's own favourites."""
    if system == "icd10cm":
        return Kind.ICD_ADDED if added else Kind.ICD_RETIRED
    return Kind.DESCRIPTOR_ADDED if added else Kind.DESCRIPTOR_DELETED


def descriptor_changes(
    *,
    system: str,
    entries: Iterable,
    edition_before: str,
    edition_after: str,
    effective_before: datetime.date | None,
    effective_after: datetime.date | None,
) -> list[CodeChange]:
    """The code-set importer's findings (codesets.FeedEntry: added, deleted or revised, with
    the descriptors before and after) as change records."""
    found = []
    for entry in entries:
        if entry.change == "revised":
            kind = Kind.DESCRIPTOR_REVISED
        else:
            kind = descriptor_kind(system=system, added=entry.change == "added")
        found.append(
            CodeChange(
                system=system,
                code=entry.code,
                kind=kind,
                field=",".join(
                    name.removesuffix("_descriptor") for name in (entry.after or entry.before or {})
                ),
                before=entry.before,
                after=entry.after,
                edition_before=edition_before,
                edition_after=edition_after,
                effective_before=effective_before,
                effective_after=effective_after,
            )
        )
    return found


# --- Reading -------------------------------------------------------------------------------------


def figure_rows(change: CodeChange) -> list[tuple[str, str | None, str | None, Decimal | None]]:
    """A fee schedule change as (figure, before, after, percent) for each figure that moved."""
    before, after = change.before or {}, change.after or {}
    rows = []
    for name in (*RVU_FIELDS, *PAYMENT_FIELDS):
        old, new = before.get(name), after.get(name)
        if old == new or (old is not None and new is not None and Decimal(old) == Decimal(new)):
            continue
        percent = percent_change(
            Decimal(old) if old is not None else None, Decimal(new) if new is not None else None
        )
        rows.append((FIGURE_NAMES[name], old, new, percent))
    return rows


KIND_SUMMARY = {  # one-line wording of how many changes of a kind a code had
    Kind.DESCRIPTOR_ADDED: ("code added", "code added"),
    Kind.DESCRIPTOR_DELETED: ("code deleted", "code deleted"),
    Kind.DESCRIPTOR_REVISED: ("descriptor revised", "descriptor revised"),
    Kind.NCCI_ADDED: ("NCCI edit added", "NCCI edits added"),
    Kind.NCCI_DELETED: ("NCCI edit deleted", "NCCI edits deleted"),
    Kind.NCCI_INDICATOR: ("NCCI modifier indicator changed", "NCCI modifier indicators changed"),
    Kind.MUE_CHANGED: ("MUE changed", "MUE changed"),
    Kind.RVU_CHANGED: ("RVUs and payment changed", "RVUs and payment changed"),
    Kind.ICD_ADDED: ("new ICD-10-CM code", "new ICD-10-CM codes"),
    Kind.ICD_RETIRED: ("ICD-10-CM code retired", "ICD-10-CM codes retired"),
}
COUNTED_KINDS = {Kind.NCCI_ADDED, Kind.NCCI_DELETED, Kind.NCCI_INDICATOR, Kind.ICD_ADDED}


def kinds_summary(kinds: Iterable[str]) -> str:
    """ "3 NCCI edits added, 1 NCCI edit deleted; RVUs and payment changed" — the kinds of
    change only, never a value (safe to show or mail to anyone who keeps the code)."""
    counts = Counter(kinds)
    parts = []
    for kind in Kind:
        if kind not in counts:
            continue
        one, many = KIND_SUMMARY[kind]
        number = counts[kind]
        if kind in COUNTED_KINDS:
            parts.append(f"{number} {one if number == 1 else many}")
        else:
            parts.append(one)
    return "; ".join(parts)
