"""`cms-ncci-ptp`: CMS NCCI procedure-to-procedure edits, the tab-delimited text release.

CMS ships each quarter's practitioner edits as four zip archives (`ccipra-v301r0-f1.zip` …
`-f4.zip`, split by code range), each holding a `.txt` file that opens with the AMA copyright
line and a heading of a few lines (`Column 1`, `Column 2`, `*=in existence prior to 1996`,
`Effective Date`, `Deletion Date *=no data`, `Modifier 0=not allowed …`, `PTP Edit
Rationale`). Each edit line: column 1 code, column 2 code, `*` or nothing, the effective date
(YYYYMMDD), the deletion date or `*`, the modifier indicator, the rationale. Outpatient
hospital edits are separate releases: the setting comes from --setting or the file name
(ccipra / ccioph).

A release is a complete picture of the edits (deleted ones stay, with their deletion date), so
each edition's rows are kept whole and the latest edition in effect on a date of service is
the one that applies (`NcciEdit.objects.as_of`). Parts named in one command are one edition
in one transaction. Some copies lack the effective dates; such an edit is taken as in force
from its edition's start, and the summary says so.

At 2.5 million lines per edition nothing is held in memory: the lines are checked as they
are decompressed and streamed through COPY into a scratch table, and set-based statements
count and write the differences.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from pathlib import Path

from django.db import connection

from codes.changes import changes_record_ncci
from codes.importers.base import (
    CODE_CELL,
    Counts,
    Importer,
    SourceFile,
    hinted,
    parse_date,
)
from codes.models import EditEdition, NcciEdit

HEADER = re.compile(r"^\s*column\s*1\b", re.IGNORECASE)
SETTING_HINTS = {
    "practitioner": ("CCIPRA", "PRACTITIONER"),
    "hospital": ("CCIOPH", "HOSPITAL", "OUTPATIENT"),
}
# v301r0 is version 30.1, release 0. Version N.q takes effect in quarter q+1 of 1994 + N.
VERSION_IN_NAME = re.compile(r"v(\d{2})(\d)r(\d+)", re.IGNORECASE)
VERSION_OPTION = re.compile(r"v?(\d{2})\.?(\d)(?:r\d+)?", re.IGNORECASE)
QUARTER_IN_NAME = re.compile(r"(?<!\d)(20\d\d)[_ -]?q([1-4])(?!\d)", re.IGNORECASE)
PART_IN_NAME = re.compile(r"-f(\d)\b", re.IGNORECASE)
FIRST_VERSION_YEAR = 1994
RATIONALE_LIMIT = 200
COPY_BATCH = 20_000  # lines per write to COPY
WARN_AT_MOST = 20  # edits listed twice named one by one

STAGING = "ncci_import_staging"  # the file's edits
CHANGES = "ncci_import_changes"  # those that differ from the stored edition
DUPLICATES = "ncci_import_duplicates"  # edits listed twice, but for the last time


def quarter_start(version: str) -> datetime.date:
    """2024-04-01 for version 30.1: CMS releases version N.0 on January 1 of 1994 + N and
    N.1, N.2, N.3 on April 1, July 1 and October 1."""
    major, quarter = version.split(".")
    return datetime.date(FIRST_VERSION_YEAR + int(major), 3 * int(quarter) + 1, 1)


def version_in(name: str) -> str | None:
    match = VERSION_IN_NAME.search(name)
    return f"{int(match.group(1))}.{match.group(2)}" if match else None


class NcciImporter(Importer):
    format = "cms-ncci-ptp"
    title = "CMS NCCI procedure-to-procedure edits"
    primary = "PTP edits"
    tables = (NcciEdit,)
    member_suffixes = (".txt", ".tsv")

    @classmethod
    def bundles(cls, paths: list[Path]) -> list[list[Path]]:
        """Parts of one edition (f1–f4 of one version and setting) named together are one
        run; a file named again, or another edition, starts the next run."""
        runs: list[list[Path]] = []
        for path in paths:
            edition = (version_in(path.name), hinted(path.name, SETTING_HINTS))
            last = runs[-1] if runs else None
            if (
                last
                and edition[0] is not None
                and (version_in(last[0].name), hinted(last[0].name, SETTING_HINTS)) == edition
                and path.name not in {p.name for p in last}
            ):
                last.append(path)
            else:
                runs.append([path])
        return runs

    @classmethod
    def fits(cls, source: SourceFile) -> bool:
        with source.open() as stream:
            head = stream.read(4096).decode("cp1252", errors="replace")
        return bool(HEADER.search(head) or re.search(r"^[0-9A-Z]{5}\t[0-9A-Z]{5}\t", head, re.M))

    # --- Which edition -----------------------------------------------------------------------

    def parse(self) -> None:
        """Only what the names and options tell: the lines are read while writing."""
        self.sources.sort(key=lambda s: PART_IN_NAME.findall(s.plain_name) or ["0"])
        self.source = self.sources[0]
        self.setting = self._setting()
        self.version, self.effective = self._edition()
        self.edition = f"v{self.version}, effective {self.effective.isoformat()}"
        self.undated = self.duplicates = 0
        self.unsorted = False
        self.last_pair: tuple[str, str] = ("", "")

    def _setting(self) -> str:
        if self.options.setting:
            if self.options.setting not in SETTING_HINTS:
                raise self.error(
                    f"NCCI PTP edits are for practitioner or hospital claims, not "
                    f"{self.options.setting}"
                )
            return self.options.setting
        found = hinted(self.source.name, SETTING_HINTS)
        if found is None:
            self.warn(
                "the file name does not say practitioner (ccipra) or hospital (ccioph): "
                "practitioner assumed; pass --setting to be sure"
            )
            return NcciEdit.Setting.PRACTITIONER
        return found

    def _edition(self) -> tuple[str, datetime.date]:
        """The version from --edition or the file name; its start from --effective, a
        `2024q2` in the file name, or the version's quarter."""
        version = None
        if self.options.edition:
            match = VERSION_OPTION.fullmatch(self.options.edition.strip())
            if not match:
                raise self.error(
                    f"--edition {self.options.edition!r}: expected an NCCI version such as "
                    "30.1 or v301r0"
                )
            version = f"{int(match.group(1))}.{match.group(2)}"
        names = [source.name for source in self.sources]
        version = version or next(filter(None, map(version_in, names)), None)
        if version is None:
            raise self.error(
                "the file name does not give the NCCI version (such as v301r0): pass "
                "--edition, e.g. --edition 30.1"
            )
        if int(version.split(".")[1]) > 3:
            raise self.error(f"version {version}: CMS numbers the quarters .0 to .3")
        start = quarter_start(version)
        if self.options.effective:
            return version, self.options.effective
        quarter = next(filter(None, (QUARTER_IN_NAME.search(n) for n in names)), None)
        if quarter:
            named = datetime.date(int(quarter.group(1)), 3 * int(quarter.group(2)) - 2, 1)
            if named != start:
                self.warn(
                    f"the file name says {named.isoformat()} but version {version} takes "
                    f"effect on {start.isoformat()}; the name's date is used"
                )
            return version, named
        return version, start

    # --- Reading into the scratch table ------------------------------------------------------

    def _stream(self, cursor) -> int:
        """Every edit line of every part, checked and sent through COPY; returns the count."""
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (part smallint, line integer, column1 text, "
            "column2 text, prior_1996 boolean, effective_date date, deletion_date date, "
            "modifier_indicator text, rationale text) ON COMMIT DROP"
        )
        self.digest = hashlib.sha256()
        total = 0
        for part, source in enumerate(self.sources):
            with (
                self.progress(f"Reading {source.name}", 0, unit="lines") as bar,
                cursor.cursor.copy(f"COPY {STAGING} FROM STDIN") as copy,
            ):
                total += self._copy_part(part, source, copy, bar)
        if not total:
            raise self.error("no edit lines found: not an NCCI PTP file (tab-delimited text)")
        return total

    def _copy_part(self, part: int, source: SourceFile, copy, bar) -> int:
        header_seen = data_seen = False
        batch: list[str] = []
        written = preamble = footnotes = 0
        fullmatch = CODE_CELL.fullmatch
        # CMS files are sorted by pair, so an edit listed twice sits among the lines of its
        # pair: holding one pair's lines at a time finds it without keeping the file.
        pair: tuple[str, str] = ("", "")
        held: dict[tuple[str, str], tuple[int, str]] = {}
        # Parts split the codes into ranges: one that starts at or before where the last one
        # ended overlaps it, and the repeats are then found in the scratch table.
        previous_end = self.last_pair
        for number, line in source.stream_lines(self.options.encoding):
            if not line.strip(" \t\x1a"):
                footnotes += data_seen
                preamble += not data_seen
                continue
            cells = line.split("\t")
            if not data_seen:
                if not (len(cells) > 1 and fullmatch(cells[0].strip())):
                    header_seen = header_seen or bool(HEADER.match(line))
                    preamble += 1
                    continue
                if not header_seen:
                    raise self.error(
                        "edit lines before the Column 1 / Column 2 header: not an NCCI PTP file",
                        line=number,
                        source=source,
                    )
                data_seen = True
            this_pair, key, row = self.check_line(part, number, cells, source)
            if this_pair != pair:
                if this_pair < pair or (not held and this_pair <= previous_end):
                    self.unsorted = True
                batch.extend(text for _, text in held.values())
                held.clear()
                pair = this_pair
                if len(batch) >= COPY_BATCH:
                    written += self._send(copy, batch, bar)
            earlier = held.get(key)
            if earlier is not None:
                self._listed_twice(pair, key, earlier[0], number, source)
            held[key] = (number, row)
        batch.extend(text for _, text in held.values())
        written += self._send(copy, batch, bar)
        self.last_pair = max(pair, self.last_pair)
        self.skip("heading lines", preamble)
        self.skip("blank lines after the edits", footnotes)
        return written

    def _listed_twice(
        self, pair: tuple[str, str], key: tuple[str, str], first: int, number: int, source
    ) -> None:
        self.duplicates += 1
        if self.duplicates > WARN_AT_MOST:
            return
        since = f" from {key[0]}" if key[0] != "\\N" else ""
        self.warn(
            f"{pair[0]}/{pair[1]}{since} is listed again (first on line {first}); the later "
            "line wins",
            line=number,
            source=source,
        )

    def _send(self, copy, batch: list[str], bar) -> int:
        text = "".join(batch).encode()
        copy.write(text)
        self.digest.update(text)
        bar.advance(len(batch))
        sent = len(batch)
        batch.clear()
        return sent

    def check_line(
        self, part: int, number: int, cells: list[str], source: SourceFile
    ) -> tuple[tuple[str, str], tuple[str, str], str]:
        """One edit line checked: its pair, what tells it from the pair's other lines (see
        _SAME_EDIT), and its COPY text row."""
        if len(cells) < 6:
            raise self.error(
                f"{len(cells)} tab-separated fields, expected 7: a truncated line",
                line=number,
                source=source,
            )
        column1, column2 = cells[0].strip().upper(), cells[1].strip().upper()
        for name, code in (("Column 1", column1), ("Column 2", column2)):
            if not CODE_CELL.fullmatch(code):
                raise self.error(
                    f"{code!r} is not a HCPCS/CPT code", line=number, field=name, source=source
                )
        prior = cells[2].strip()
        if prior not in ("", "*"):
            raise self.error(
                f"{prior!r}: expected * or nothing",
                line=number,
                field="in existence prior to 1996",
                source=source,
            )
        effective_text = cells[3].strip()
        if effective_text:
            effective = self._date(number, effective_text, "Effective Date", source)
            effective_cell = effective.isoformat()
        else:
            if not self.undated:
                self._first_undated(number, source)
            self.undated += 1
            effective, effective_cell = None, "\\N"
        deletion_text = cells[4].strip()
        if deletion_text == "*":
            deletion_cell = "\\N"
        else:
            deletion = self._date(number, deletion_text, "Deletion Date", source)
            deletion_cell = deletion.isoformat()
            if effective and deletion < effective:
                self.warn(
                    "deletion date before the effective date",
                    line=number,
                    field="Deletion Date",
                    source=source,
                )
        indicator = cells[5].strip()
        if indicator not in ("0", "1", "9"):
            raise self.error(
                f"{indicator!r}: expected 0, 1 or 9", line=number, field="Modifier", source=source
            )
        rationale = cells[6].strip() if len(cells) == 7 else " ".join(cells[6:]).strip()
        if len(rationale) > RATIONALE_LIMIT or "  " in rationale:
            rationale = self.fit(
                rationale, RATIONALE_LIMIT, line=number, field="PTP Edit Rationale"
            )
        if "\\" in rationale:
            rationale = rationale.replace("\\", "\\\\")
        row = (
            f"{part}\t{number}\t{column1}\t{column2}\t{'t' if prior else 'f'}\t{effective_cell}\t"
            f"{deletion_cell}\t{indicator}\t{rationale}\n"
        )
        key = (effective_cell, deletion_cell if effective is None else "")
        return (column1, column2), key, row

    def _first_undated(self, number: int, source: SourceFile) -> None:
        if self.options.strict:
            raise self.error(
                f"no effective date (--strict stops at warnings; without it such edits are "
                f"taken as in force from the edition's start, {self.effective.isoformat()})",
                line=number,
                field="Effective Date",
                source=source,
            )

    def _date(self, number: int, text: str, field: str, source: SourceFile) -> datetime.date:
        try:
            return parse_date(text)
        except ValueError as exc:
            raise self.error(str(exc), line=number, field=field, source=source) from exc

    # --- Counting and writing ----------------------------------------------------------------

    def apply(self) -> None:
        with connection.cursor() as cursor:
            # Room for the hash joins over millions of rows to stay in memory; this
            # transaction only.
            cursor.execute("SET LOCAL work_mem = '128MB'")
            read = self._stream(cursor)
            if self.undated:
                self.warn(
                    f"{self.undated:,} of {read:,} edits have no effective date (this copy of "
                    "the file left the column empty): they are taken as in force from the "
                    f"edition's start, {self.effective.isoformat()}"
                )
            if self.duplicates > WARN_AT_MOST:
                self.warn(f"… and {self.duplicates - WARN_AT_MOST:,} more edits listed twice")
            kept = read - (self._drop_duplicates(cursor) if self.unsorted else 0)
            edition, baseline = self._editions()
            if baseline == edition.pk and self._same_as_stored(cursor, edition, kept):
                self.counts[self.primary] = Counts(unchanged=kept)
                cursor.execute(f"DROP TABLE IF EXISTS {STAGING}, {DUPLICATES}")
                return
            self.counts[self.primary] = self._compare(cursor, baseline, kept)
            # Before the writing: a re-imported edition is compared with its rows as stored.
            changes_record_ncci(
                run=self.feed_run,
                staging=STAGING,
                differing=CHANGES,
                baseline=edition if baseline == edition.pk else self._baseline(baseline),
                edition=edition,
            )
            if not self.options.dry_run:
                with self.progress("Writing", kept, unit="edits") as bar:
                    self._write(cursor, edition, same=baseline == edition.pk)
                    bar.advance(kept)
            edition.digest = "" if self.options.dry_run else self.digest.hexdigest()
            if not self.options.dry_run:
                edition.save(update_fields=["digest"])
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}, {CHANGES}, {DUPLICATES}")

    def _same_as_stored(self, cursor, edition: EditEdition, kept: int) -> bool:
        """The same lines as the import that stored this edition, and all its rows still
        there: nothing to compare. (An edition edited since, or a file that differs in any
        byte of its edits, goes through the comparison.)"""
        if not edition.digest or edition.digest != self.digest.hexdigest():
            return False
        cursor.execute(f"SELECT count(*) FROM {_table()} WHERE edition_id = %s", [edition.pk])
        return cursor.fetchone()[0] == kept

    def _drop_duplicates(self, cursor) -> int:
        """For a file not sorted by pair: an edit listed twice (the same pair from the same
        date) is found by one hash aggregate, and the later line wins, with a warning."""
        key = _KEY.format(t="s")
        cursor.execute(f"DROP TABLE IF EXISTS {DUPLICATES}, {DUPLICATES}_lines")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {DUPLICATES} ON COMMIT DROP AS SELECT "
            + ", ".join(f"{part} AS k{n}" for n, part in enumerate(_key_parts("s")))
            + f" FROM {STAGING} AS s GROUP BY {key} HAVING count(*) > 1"
        )
        if not cursor.rowcount:
            return 0
        cursor.execute(
            f"CREATE TEMPORARY TABLE {DUPLICATES}_lines ON COMMIT DROP AS "
            f"SELECT part, line, column1, column2, effective_date FROM ("
            f"  SELECT s.*, row_number() OVER (PARTITION BY {key} ORDER BY part DESC, line DESC)"
            f"  AS rank FROM {STAGING} AS s WHERE ({key}) IN (SELECT * FROM {DUPLICATES})"
            ") AS ranked WHERE rank > 1"
        )
        cursor.execute(f"DROP TABLE {DUPLICATES}")
        cursor.execute(f"ALTER TABLE {DUPLICATES}_lines RENAME TO {DUPLICATES}")
        cursor.execute(f"SELECT * FROM {DUPLICATES} ORDER BY part, line LIMIT %s", [WARN_AT_MOST])
        for part, line, column1, column2, effective in cursor.fetchall():
            since = f" from {effective}" if effective else ""
            self.warn(
                f"{column1}/{column2}{since} is listed again further on; the later line wins",
                line=line,
                source=self.sources[part],
            )
        cursor.execute(f"SELECT count(*) FROM {DUPLICATES}")
        dropped = cursor.fetchone()[0]
        if dropped > WARN_AT_MOST:
            self.warn(f"… and {dropped - WARN_AT_MOST:,} more edits listed twice")
        cursor.execute(
            f"DELETE FROM {STAGING} AS s USING {DUPLICATES} AS d "
            "WHERE s.part = d.part AND s.line = d.line"
        )
        return dropped

    def _editions(self) -> tuple[EditEdition, int | None]:
        """This edition (created unless a dry run) and the one its counts compare with: itself
        when imported before, else the edition before it."""
        kind = EditEdition.Kind.NCCI_PTP
        editions = EditEdition.objects.filter(kind=kind, setting=self.setting)
        edition = editions.filter(version=self.version).first()
        if edition is None:
            edition = EditEdition(
                kind=kind, setting=self.setting, version=self.version, effective_date=self.effective
            )
            previous = (
                editions.filter(effective_date__lt=self.effective)
                .order_by("-effective_date")
                .first()
            )
            baseline = previous.pk if previous else None
        else:
            baseline = edition.pk
        if edition.effective_date != self.effective:
            self.warn(
                f"v{self.version} was imported as effective {edition.effective_date}; it now "
                f"takes effect on {self.effective}"
            )
            edition.effective_date = self.effective
        edition.source = self.label[:500]
        if not self.options.dry_run:
            edition.save()
        self.edition = edition.make_label()
        return edition, baseline

    @staticmethod
    def _baseline(pk: int | None) -> EditEdition | None:
        return EditEdition.objects.filter(pk=pk).first() if pk else None

    def _compare(self, cursor, baseline: int | None, total: int) -> Counts:
        """Counts against the edition as stored (or the one before it), from one hash join
        that keeps only the edits that differ."""
        cursor.execute(f"DROP TABLE IF EXISTS {CHANGES}")
        cursor.execute(
            f"""CREATE TEMPORARY TABLE {CHANGES} ON COMMIT DROP AS
            SELECT s.*, b.id AS stored_id,
                b.id IS NOT NULL AND b.deletion_date IS NULL AND s.deletion_date IS NOT NULL
                AS deleted
            FROM {STAGING} AS s LEFT JOIN {_table()} AS b
                ON b.edition_id = %s AND {_SAME_EDIT}
            WHERE b.id IS NULL OR {_DIFFERS}""",
            [baseline],
        )
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE stored_id IS NULL), "
            f"count(*) FILTER (WHERE deleted), count(*) FILTER (WHERE NOT deleted) FROM {CHANGES}"
        )
        added, deleted, changed = cursor.fetchone()
        updated = changed - added
        unchanged = total - added - updated - deleted
        return Counts(added=added, updated=updated, deleted=deleted, unchanged=unchanged)

    def _write(self, cursor, edition: EditEdition, *, same: bool) -> None:
        columns = (
            "column1, column2, prior_1996, effective_date, deletion_date, modifier_indicator, "
            "rationale"
        )
        if not same:  # a new edition: all its rows, in one statement, in the file's order
            # (CMS sorts by pair, which keeps a code's edits together on disk)
            cursor.execute(
                f"INSERT INTO {_table()} (edition_id, setting, {columns}) "
                f"SELECT %s, %s, {columns} FROM {STAGING}",
                [edition.pk, self.setting],
            )
            return
        # The same edition again: change what differs, add what is new. An edit the files
        # do not list stays: the edition may have come in parts, imported one by one.
        cursor.execute(
            f"""UPDATE {_table()} AS b SET prior_1996 = c.prior_1996,
                deletion_date = c.deletion_date, modifier_indicator = c.modifier_indicator,
                rationale = c.rationale
            FROM {CHANGES} AS c WHERE b.id = c.stored_id"""
        )
        cursor.execute(
            f"INSERT INTO {_table()} (edition_id, setting, {columns}) "
            f"SELECT %s, %s, {columns} FROM {CHANGES} WHERE stored_id IS NULL",
            [edition.pk, self.setting],
        )


# One edit in the edition (b) and the file (s): the same pair from the same effective date.
# A copy without effective dates lists a pair once per period it was in force (deleted
# 2019-12-31, then again from 2020), so there the deletion date tells the rows apart.
# Written with coalesce so that it can be a hash join, which IS NOT DISTINCT FROM prevents.
_UNDATED_END = (
    "coalesce(CASE WHEN {t}.effective_date IS NULL THEN {t}.deletion_date END, 'infinity')"
)
_KEY = "{t}.column1, {t}.column2, coalesce({t}.effective_date, '-infinity'), " + _UNDATED_END


def _key_parts(table: str) -> list[str]:
    return [
        f"{table}.column1",
        f"{table}.column2",
        f"coalesce({table}.effective_date, '-infinity')",
        _UNDATED_END.format(t=table),
    ]


_SAME_EDIT = (
    "b.column1 = s.column1 AND b.column2 = s.column2 AND "
    "coalesce(b.effective_date, '-infinity') = coalesce(s.effective_date, '-infinity') AND "
    + _UNDATED_END.format(t="b")
    + " = "
    + _UNDATED_END.format(t="s")
)
_DIFFERS = (
    "(b.prior_1996, b.deletion_date, b.modifier_indicator, b.rationale) IS DISTINCT FROM "
    "(s.prior_1996, s.deletion_date, s.modifier_indicator, s.rationale)"
)


def _table() -> str:
    return connection.ops.quote_name(NcciEdit._meta.db_table)
