"""`cms-hcpcs`: the CMS HCPCS Level II alpha-numeric file, contractor record layout.

Each record is 320 fixed-width characters. Position 11 tells the record type: 3 is the first
line of a procedure code (with its detail fields), 4 a continuation carrying more of the long
description; 7 and 8 are the same for modifiers, whose two characters sit in positions 4–5.
Only the fields the site shows are read; the rest (pricing, coverage, ASC, BETOS …) are
checked for nothing beyond the line's length.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from codes.importers.base import Counts, parse_date, year_in
from codes.importers.codesets import CodeEntry, CodeSetImporter, HistoryEvent
from codes.importers.groups import static_groups
from codes.models import Code, CodeHistory, Modifier
from codes.normalize import canonical_code

RECORD_LENGTH = 320
MIN_FIRST_LINE = 293  # through the action code; only filler may be missing after it
MIN_CONTINUATION = 12  # through the first character of the long description
# Some editions open with disclaimer lines. A record starts with a code (or, for a modifier,
# three blanks and two characters) and a five-digit sequence number; a line before the first
# record that does not is a disclaimer line and is skipped. A line that does is read as a
# record, so a broken first record is still an error naming its line.
RECORD_START = re.compile(r"[0-9A-Za-z ]{5}\d{5}")
MAX_PREAMBLE_LINES = 50


@dataclass(frozen=True)
class Column:
    name: str
    start: int  # 1-based, inclusive, as the layout document numbers them
    end: int

    def read(self, line: str) -> str:
        return line[self.start - 1 : self.end].strip()


CODE = Column("HCPCS code", 1, 5)
MODIFIER = Column("HCPCS modifier code", 4, 5)
SEQUENCE = Column("sequence number", 6, 10)
RECORD_TYPE = Column("record identification code", 11, 11)
LONG = Column("long description", 12, 91)
SHORT = Column("short description", 92, 119)
ADDED = Column("code added date", 269, 276)
ACTION_DATE = Column("action effective date", 277, 284)
TERMINATED = Column("termination date", 285, 292)
ACTION = Column("action code", 293, 293)

FIRST_LINES = {"3": "procedure", "7": "modifier"}
CONTINUATIONS = {"4": "3", "8": "7"}
ACTION_CODES = {
    "A": "Added.",
    "B": "Long descriptor and administrative data changed.",
    "C": "Long descriptor changed.",
    "D": "Discontinued.",
    "F": "Administrative data changed.",
    "N": "",
    "P": "Payment data changed.",
    "R": "Reactivated.",
    "S": "Short descriptor changed.",
    "T": "Miscellaneous change.",
}
ACTION_HISTORY = {
    "A": CodeHistory.Action.ADDED,
    "R": CodeHistory.Action.ADDED,
    "B": CodeHistory.Action.REVISED,
    "C": CodeHistory.Action.REVISED,
    "S": CodeHistory.Action.REVISED,
    "D": CodeHistory.Action.DELETED,
}


@dataclass
class Record:
    kind: str  # procedure | modifier
    code: str
    line: int
    sequence: int
    short: str
    long_parts: list[str] = field(default_factory=list)
    added: datetime.date | None = None
    action_date: datetime.date | None = None
    terminated: datetime.date | None = None
    action: str = ""

    @property
    def long(self) -> str:
        return " ".join(" ".join(self.long_parts).split())


class HcpcsImporter(CodeSetImporter):
    format = "cms-hcpcs"
    title = "CMS HCPCS Level II alpha-numeric file"
    system_slug = "hcpcs"
    history_in_file = True

    def parse(self) -> None:
        lines = self.text_lines()
        self.procedures: dict[str, Record] = {}
        self.modifiers: dict[str, Record] = {}
        current: Record | None = None
        preamble: list[tuple[int, str]] = []
        with self.progress("Reading", len(lines), unit="lines") as bar:
            for number, line in enumerate(lines, start=1):
                bar.advance()
                if not line.strip(" \x1a\xa0"):
                    continue
                if current is None and not RECORD_START.match(line):
                    preamble.append((number, line))
                    if len(preamble) <= MAX_PREAMBLE_LINES:
                        continue
                    # Pages of text are not a disclaimer: say why the first line is no record.
                    self._read_line(*preamble[0], None)
                current = self._read_line(number, line, current)
        if not self.procedures and not self.modifiers:
            if preamble:  # only text, no record: the first line is the one to explain
                self._read_line(*preamble[0], None)
            raise self.error("no HCPCS records found: is this the contractor-layout file?")
        self.skip("disclaimer lines before the first record", len(preamble))
        self._settle_edition()

    def _read_line(self, number: int, line: str, current: Record | None) -> Record:
        if len(line) > RECORD_LENGTH:
            raise self.error(
                f"{len(line)} characters, but records are {RECORD_LENGTH} long: not the HCPCS "
                "contractor layout",
                line=number,
            )
        kind = RECORD_TYPE.read(line) if len(line) >= RECORD_TYPE.end else ""
        if kind not in FIRST_LINES and kind not in CONTINUATIONS:
            layout = "" if current else ": not the HCPCS contractor layout"
            raise self.error(
                f"unknown record type {kind!r} (expected 3, 4, 7 or 8){layout}",
                line=number,
                field=RECORD_TYPE.name,
            )
        sequence_text = SEQUENCE.read(line)
        if not sequence_text.isdigit():
            raise self.error(f"{sequence_text!r} is not a number", line=number, field=SEQUENCE.name)
        is_modifier = kind in ("7", "8")
        code = self._code(number, line, is_modifier)
        if kind in CONTINUATIONS:
            return self._continue(number, line, kind, code, int(sequence_text), current)
        if len(line) < MIN_FIRST_LINE:
            raise self.error(
                f"truncated record: {len(line)} characters, expected {RECORD_LENGTH}",
                line=number,
            )
        record = Record(
            kind=FIRST_LINES[kind],
            code=code,
            line=number,
            sequence=int(sequence_text),
            short=SHORT.read(line),
            long_parts=[LONG.read(line)],
            added=self._date(number, line, ADDED),
            action_date=self._date(number, line, ACTION_DATE),
            terminated=self._date(number, line, TERMINATED),
            action=ACTION.read(line),
        )
        if record.action and record.action not in ACTION_CODES:
            raise self.error(
                f"unknown action code {record.action!r}", line=number, field=ACTION.name
            )
        if not record.short:
            self.warn("no short description", line=number, field=SHORT.name)
        table = self.modifiers if is_modifier else self.procedures
        if code in table:
            self.warn(
                f"{code} appears again (first on line {table[code].line}); the later record wins",
                line=number,
                field=MODIFIER.name if is_modifier else CODE.name,
            )
        table[code] = record
        return record

    def _code(self, number: int, line: str, is_modifier: bool) -> str:
        if is_modifier:
            code = MODIFIER.read(line).upper()
            if len(code) != 2 or not code.isalnum() or line[:3].strip():
                raise self.error(
                    f"{line[:5]!r} is not a modifier code", line=number, field=MODIFIER.name
                )
            return code
        canonical = canonical_code("hcpcs", CODE.read(line))
        if canonical is None:
            raise self.error(
                f"{CODE.read(line)!r} is not a HCPCS Level II code", line=number, field=CODE.name
            )
        return canonical

    def _continue(
        self,
        number: int,
        line: str,
        kind: str,
        code: str,
        sequence: int,
        current: Record | None,
    ) -> Record:
        if len(line) < MIN_CONTINUATION:
            raise self.error(f"truncated record: {len(line)} characters", line=number)
        expected = FIRST_LINES[CONTINUATIONS[kind]]
        if current is None or current.code != code or current.kind != expected:
            raise self.error(
                f"continuation of {code} does not follow its first line",
                line=number,
                field=RECORD_TYPE.name,
            )
        if sequence <= current.sequence:
            self.warn(
                f"sequence number {sequence} does not follow {current.sequence}",
                line=number,
                field=SEQUENCE.name,
            )
        current.sequence = sequence
        current.long_parts.append(LONG.read(line))
        return current

    def _date(self, number: int, line: str, column: Column) -> datetime.date | None:
        value = column.read(line)
        if not value:
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            raise self.error(str(exc), line=number, field=column.name) from exc

    def _settle_edition(self) -> None:
        year = year_in(self.edition) or year_in(self.source.name)
        if year is None:
            dates = [r.action_date for r in self.procedures.values() if r.action_date]
            year = max(dates).year if dates else None
        if year is None:
            raise self.error("cannot tell the edition year; pass --edition")
        self.year = year
        self.edition = self.edition or str(year)
        self.effective = self.options.effective or datetime.date(year, 1, 1)

    # --- Writing --------------------------------------------------------------------------

    def apply(self) -> None:
        settled = self.sync(
            entries=[self._entry(record) for record in self.procedures.values()],
            groups=static_groups("hcpcs").entries(self.procedures),
            history=[e for r in self.procedures.values() for e in self._history(r)],
            groups_replace=False,
        )
        self.counts["modifiers"] = self._sync_modifiers(retire=settled)

    @staticmethod
    def _status(record: Record) -> dict[str, object]:
        return {
            "status": Code.Status.DELETED if record.terminated else Code.Status.ACTIVE,
            "effective_date": record.added,
            "end_date": record.terminated,
        }

    def _entry(self, record: Record) -> CodeEntry:
        return CodeEntry(
            code=record.code,
            fields={
                "short_descriptor": record.short or record.long[:28],
                "long_descriptor": record.long,
                **self._status(record),
                "action_code": record.action,
                "action_date": record.action_date,
            },
            group=static_groups("hcpcs").group_for(record.code),
        )

    def _history(self, record: Record) -> list[HistoryEvent]:
        events = []
        action = ACTION_HISTORY.get(record.action)
        if action and record.action_date:
            date = record.action_date
            if action == CodeHistory.Action.DELETED and record.terminated:
                date = record.terminated
            events.append(
                HistoryEvent(
                    record.code, action, record.action_date.year, date, ACTION_CODES[record.action]
                )
            )
        if record.added:
            events.append(
                HistoryEvent(
                    record.code,
                    CodeHistory.Action.ADDED,
                    record.added.year,
                    record.added,
                    "Added to HCPCS Level II.",
                )
            )
        if record.terminated:
            events.append(
                HistoryEvent(
                    record.code,
                    CodeHistory.Action.DELETED,
                    (record.terminated + datetime.timedelta(days=1)).year,
                    record.terminated,
                    "Terminated: the last date of service is the day shown.",
                )
            )
        return events

    def _sync_modifiers(self, *, retire: bool) -> Counts:
        counts = Counts()
        existing = {m.code: m for m in Modifier.objects.all()}
        create, update = [], []
        for code, record in self.modifiers.items():
            values = {
                "short_descriptor": record.short or record.long[:200],
                "long_descriptor": record.long,
                **self._status(record),
            }
            current = existing.get(code)
            if current is None:
                counts.added += 1
                create.append(Modifier(code=code, **values))
            elif self.add_only or all(getattr(current, k) == v for k, v in values.items()):
                counts.unchanged += 1
            else:
                if values["status"] == Code.Status.DELETED and current.status != values["status"]:
                    counts.deleted += 1
                else:
                    counts.updated += 1
                for key, value in values.items():
                    setattr(current, key, value)
                update.append(current)
        if retire:
            for code, current in existing.items():
                # Numeric modifiers are CPT's: this file never lists them.
                if (
                    code not in self.modifiers
                    and not code.isdigit()
                    and (current.status == Code.Status.ACTIVE)
                ):
                    current.status = Code.Status.DELETED
                    current.end_date = current.end_date or self.effective - datetime.timedelta(1)
                    update.append(current)
                    counts.deleted += 1
        if not self.options.dry_run:
            Modifier.objects.bulk_create(create, batch_size=1000)
            Modifier.objects.bulk_update(
                update,
                ["short_descriptor", "long_descriptor", "status", "effective_date", "end_date"],
                batch_size=1000,
            )
        return counts
