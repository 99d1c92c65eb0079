"""Bulk writes through PostgreSQL COPY: tens of thousands of rows in one round trip each.

Rows go in as Python values in the order of `fields`; psycopg adapts dates, decimals and
booleans, and JSON fields are wrapped here. Generated columns (Code.search_vector) are never
named, so the database computes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.db import connection, models
from psycopg.types.json import Jsonb

ProgressStep = Callable[[int], None]
STEP = 2000  # rows between progress updates


def _columns(model: type[models.Model], fields: Sequence[str]) -> tuple[list[str], list[bool]]:
    meta = model._meta
    found = [meta.get_field(name) for name in fields]
    return (
        [connection.ops.quote_name(f.column) for f in found],
        [isinstance(f, models.JSONField) for f in found],
    )


def _adapt(row: Sequence[object], is_json: list[bool]) -> list[object]:
    return [Jsonb(v) if json and v is not None else v for v, json in zip(row, is_json, strict=True)]


def _copy(
    cursor,
    sql: str,
    rows: Iterable[Sequence[object]],
    is_json: list[bool],
    step: ProgressStep | None,
) -> int:
    written = 0
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(_adapt(row, is_json))
            written += 1
            if step and written % STEP == 0:
                step(STEP)
    if step and written % STEP:
        step(written % STEP)
    return written


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    step: ProgressStep | None = None,
) -> int:
    """COPY new rows into the model's table; returns how many were written."""
    columns, is_json = _columns(model, fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        return _copy(cursor, f"COPY {table} ({', '.join(columns)}) FROM STDIN", rows, is_json, step)


def update_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    step: ProgressStep | None = None,
) -> int:
    """Set `fields` on existing rows; each row is (pk, *values). One COPY into a temporary
    table and one UPDATE … FROM, instead of a statement per row."""
    columns, is_json = _columns(model, fields)
    pk = connection.ops.quote_name(model._meta.pk.column)
    table = connection.ops.quote_name(model._meta.db_table)
    scratch = connection.ops.quote_name(f"import_scratch_{model._meta.db_table}")
    assignments = ", ".join(f"{column} = scratch.{column}" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS "
            f"SELECT {pk}, {', '.join(columns)} FROM {table} WITH NO DATA"
        )
        written = _copy(
            cursor,
            f"COPY {scratch} ({pk}, {', '.join(columns)}) FROM STDIN",
            rows,
            [False, *is_json],
            step,
        )
        if written:
            cursor.execute(
                f"UPDATE {table} AS target SET {assignments} FROM {scratch} AS scratch "
                f"WHERE target.{pk} = scratch.{pk}"
            )
        cursor.execute(f"DROP TABLE {scratch}")
    return written
