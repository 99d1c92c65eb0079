"""My codes: an account's favourites (with tags and an order), private notes, and the CSV a
coder brings from a superbill.

Rules only: views call these functions. A favourite is not an unlock: starring a code reads
nothing metered and spends nothing; opening its page is metered as usual.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from accounts.models import MyCode
from codes.models import Code
from codes.normalize import BY_URL_PREFIX, SYSTEMS, code_key, guess_system

NOTE_MAX_CHARS = 5_000
TAG_MAX_CHARS = 40
TAGS_PER_CODE = 10
MAX_FAVOURITES = 1_000
CSV_MAX_BYTES = 1_000_000  # a superbill list is a few kilobytes; 1 MB is thousands of rows
CSV_MAX_ROWS = MAX_FAVOURITES
TAG_SHAPE = re.compile(r"[^\W_][^,;\x00-\x1f\x7f]*")  # starts with a letter or digit
CSV_COLUMNS = ["system", "code", "descriptor", "tags"]


# --- Reading ------------------------------------------------------------------------------------


# On every account's code page: written out, since the ORM takes several times longer to
# build this one-row SELECT than Postgres takes to answer it.
MY_CODE_COLUMNS = (
    "id",
    "user_id",
    "code_id",
    "starred",
    "position",
    "tags",
    "note",
    "note_updated_at",
    "created_at",
)
MY_CODE_SQL = (
    f"SELECT {', '.join(MY_CODE_COLUMNS)} FROM accounts_mycode WHERE user_id = %s AND code_id = %s"
)


def my_code_for(*, user, code_id: int) -> MyCode | None:
    """The viewer's favourite and note for one code: one query for an account, none for a
    guest (who has neither)."""
    if user is None or not user.is_authenticated:
        return None
    with connection.cursor() as cursor:
        cursor.execute(MY_CODE_SQL, [user.pk, code_id])
        row = cursor.fetchone()
    return MyCode.from_db(connection.alias, MY_CODE_COLUMNS, row) if row else None


def starred_ids(*, user, code_ids: list[int]) -> set[int]:
    """Which of `code_ids` the account starred (one query); empty for a guest."""
    if user is None or not user.is_authenticated or not code_ids:
        return set()
    found = MyCode.objects.filter(user=user, code_id__in=code_ids, starred=True)
    return set(found.values_list("code_id", flat=True))


def favourites_for(*, user, tag: str = "") -> QuerySet[MyCode]:
    found = MyCode.objects.filter(user=user).favourites().select_related("code__system")
    return found.filter(tags__contains=[tag]) if tag else found


def tags_for(*, user) -> list[str]:
    """Every tag the account uses on its favourites, alphabetically."""
    rows = MyCode.objects.filter(user=user, starred=True).values_list("tags", flat=True)
    return sorted({tag for tags in rows for tag in tags}, key=str.casefold)


def notes_search(*, user, text: str = "") -> QuerySet[MyCode]:
    """The account's notes, newest edit first; with `text`, those whose note, code or short
    descriptor contains it."""
    found = MyCode.objects.filter(user=user).with_note().select_related("code__system")
    if text:
        found = found.filter(
            Q(note__icontains=text)
            | Q(code__code__icontains=text)
            | Q(code__short_descriptor__icontains=text)
        )
    return found.order_by("-note_updated_at", "-pk")


# --- Validation ---------------------------------------------------------------------------------


def tags_parse(*, raw: str) -> list[str]:
    """Tags typed as "spine, E/M": trimmed, duplicates (ignoring case) dropped, in order."""
    tags: dict[str, str] = {}
    for part in raw.replace(";", ",").split(","):
        tag = " ".join(part.split())
        if not tag:
            continue
        if len(tag) > TAG_MAX_CHARS:
            raise ValidationError(
                f"A tag is at most {TAG_MAX_CHARS} characters; “{tag[:TAG_MAX_CHARS]}…” is "
                f"{len(tag)}."
            )
        if not TAG_SHAPE.fullmatch(tag):
            raise ValidationError(
                f"“{tag}” is not a tag: start it with a letter or a digit, and separate tags "
                "with commas."
            )
        tags.setdefault(tag.casefold(), tag)
    if len(tags) > TAGS_PER_CODE:
        raise ValidationError(f"A code takes at most {TAGS_PER_CODE} tags.")
    return list(tags.values())


# --- Changing -----------------------------------------------------------------------------------


def _next_position(*, user) -> int:
    top = MyCode.objects.filter(user=user, starred=True).aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def favourite_add(*, user, code: Code, tags: list[str] | None = None) -> MyCode:
    """Star `code` for `user` (at the end of the list). Starring it again changes nothing
    but the tags, when given."""
    with transaction.atomic():
        row, _ = MyCode.objects.select_for_update().get_or_create(user=user, code=code)
        if not row.starred:
            row.starred = True
            row.position = _next_position(user=user)
        if tags is not None:
            row.tags = tags
        row.save()
    return row


def favourite_remove(*, user, code_id: int) -> None:
    """Unstar a code; its note, if any, stays."""
    with transaction.atomic():
        MyCode.objects.filter(user=user, code_id=code_id, note="").delete()
        MyCode.objects.filter(user=user, code_id=code_id).update(starred=False, tags=[])


def tags_set(*, user, code_id: int, tags: list[str]) -> bool:
    return MyCode.objects.filter(user=user, code_id=code_id, starred=True).update(tags=tags) > 0


def note_save(*, user, code: Code, text: str) -> MyCode | None:
    """Keep (or, when `text` is blank, drop) the account's note on `code`."""
    text = text.strip()
    with transaction.atomic():
        if not text:
            MyCode.objects.filter(user=user, code=code, starred=False).delete()
            MyCode.objects.filter(user=user, code=code).update(note="", note_updated_at=None)
            return None
        row, _ = MyCode.objects.select_for_update().get_or_create(user=user, code=code)
        row.note = text
        row.note_updated_at = timezone.now()
        row.save(update_fields=["note", "note_updated_at"])
    return row


def favourite_move(*, user, code_id: int, step: int) -> bool:
    """Move a favourite `step` places (−1 up, +1 down). The list is renumbered 0, 1, 2… so
    that ties left by concurrent additions are settled too. False when it cannot move."""
    with transaction.atomic():
        order = list(
            MyCode.objects.select_for_update()
            .filter(user=user)
            .favourites()
            .values_list("pk", "code_id", "position")
        )
        index = next((i for i, (_, cid, _) in enumerate(order) if cid == code_id), None)
        if index is None or not 0 <= index + step < len(order):
            return False
        order[index], order[index + step] = order[index + step], order[index]
        changed = [
            MyCode(pk=pk, position=new) for new, (pk, _, old) in enumerate(order) if new != old
        ]
        MyCode.objects.bulk_update(changed, ["position"])
    return True


# --- CSV ----------------------------------------------------------------------------------------


def _spreadsheet_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: keep it text.
    return f"'{text}" if text[:1] in {"=", "+", "-", "@"} else text


def favourites_csv(*, user) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in favourites_for(user=user):
        writer.writerow(
            [
                row.code.system.url_prefix,
                row.code.code,
                _spreadsheet_safe(row.code.short_descriptor),
                _spreadsheet_safe("; ".join(row.tags)),
            ]
        )
    return out.getvalue()


class CsvRejected(ValueError):
    """The file as a whole cannot be read; the message says why, for the form."""


@dataclass
class ImportReport:
    added: list[Code] = field(default_factory=list)
    updated: list[Code] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # codes not in our tables
    rejected: list[str] = field(default_factory=list)  # rows that could not be read, and why


def csv_decode(*, data: bytes) -> list[list[str]]:
    """The rows of an uploaded CSV, or CsvRejected with a message a coder can act on."""
    if len(data) > CSV_MAX_BYTES:
        raise CsvRejected(
            f"The file is {len(data) / 1_000_000:.1f} MB; a code list may be at most "
            f"{CSV_MAX_BYTES // 1_000_000} MB."
        )
    if b"\x00" in data:
        raise CsvRejected(
            "The file contains NUL bytes, so it is not a CSV text file. Save it from your "
            "spreadsheet as “CSV UTF-8” and try again."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise CsvRejected("The file is not text. Save it as CSV (UTF-8).") from None
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    except csv.Error as error:
        raise CsvRejected(f"The file is not valid CSV: {error}.") from None
    if not rows:
        raise CsvRejected("The file has no rows.")
    if len(rows) > CSV_MAX_ROWS + 1:
        raise CsvRejected(f"The file has {len(rows):,} rows; at most {CSV_MAX_ROWS:,} codes.")
    return rows


def _columns(rows: list[list[str]]) -> tuple[dict[str, int], list[list[str]]]:
    """Column positions from a header row ("code", and optionally "system", "tags"), or the
    first column as the code when the file has no header."""
    header = [cell.strip().casefold() for cell in rows[0]]
    if "code" in header:
        named = {name: header.index(name) for name in ("system", "code", "tags") if name in header}
        return named, rows[1:]
    return {"code": 0}, rows


def _candidates(raw_system: str, raw_code: str) -> list[tuple[str, str]]:
    """The (system slug, key) pairs a row may name."""
    if raw_system:
        spelling = BY_URL_PREFIX.get(raw_system.strip().lower().replace(" ", "-"))
        spelling = spelling or SYSTEMS.get(raw_system.strip().lower().replace("-", ""))
        if spelling is None:
            return []
        canonical = spelling.canonical(raw_code)
        return [(spelling.slug, code_key(canonical))] if canonical else []
    if "." in raw_code:  # only ICD-10-CM codes are written with a dot
        canonical = SYSTEMS["icd10cm"].canonical(raw_code)
        return [("icd10cm", code_key(canonical))] if canonical else []
    return [(slug, code_key(canonical)) for slug, canonical in guess_system(raw_code)]


def favourites_import(*, user, rows: list[list[str]]) -> ImportReport:
    """Star every code the rows name, with their tags; report unknown codes and unreadable
    rows, and import the rest. Codes already starred keep their place and take the file's tags
    when it has a tags column."""
    columns, body = _columns(rows)
    report = ImportReport()
    wanted: list[tuple[int, str, list[tuple[str, str]], list[str] | None]] = []
    for number, row in enumerate(body, start=2 if len(body) < len(rows) else 1):

        def cell(name: str, row: list[str] = row) -> str:
            index = columns.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        raw_code = cell("code")
        if not raw_code:
            report.rejected.append(f"Row {number}: no code.")
            continue
        tags = None
        if "tags" in columns:
            try:
                tags = tags_parse(raw=cell("tags"))
            except ValidationError as error:
                report.rejected.append(f"Row {number} ({raw_code[:20]}): {error.messages[0]}")
                continue
        wanted.append((number, raw_code, _candidates(cell("system"), raw_code), tags))
    keys = {key for _, _, candidates, _ in wanted for _, key in candidates}
    found: dict[tuple[str, str], Code] = {
        (code.system.slug, code.key): code
        for code in Code.objects.filter(key__in=keys).select_related("system")
    }
    starred = set(MyCode.objects.filter(user=user, starred=True).values_list("code_id", flat=True))
    room = MAX_FAVOURITES - len(starred)
    seen: set[int] = set()
    with transaction.atomic():
        for number, raw_code, candidates, tags in wanted:
            matches = [found[c] for c in candidates if c in found]
            if not matches:
                report.unknown.append(raw_code[:20])
                continue
            if len(matches) > 1:
                names = " or ".join(m.system.short_name for m in matches)
                report.rejected.append(
                    f"Row {number} ({raw_code}): is it {names}? Add a system column."
                )
                continue
            code = matches[0]
            if code.pk in seen:
                continue
            seen.add(code.pk)
            if code.pk in starred:
                if tags is not None:
                    tags_set(user=user, code_id=code.pk, tags=tags)
                report.updated.append(code)
                continue
            if room <= 0:
                report.rejected.append(
                    f"Row {number} ({code.code}): the list is full ({MAX_FAVOURITES:,} codes)."
                )
                continue
            favourite_add(user=user, code=code, tags=tags or [])
            room -= 1
            report.added.append(code)
    return report
