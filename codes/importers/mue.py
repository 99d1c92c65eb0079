"""`cms-mue`: CMS medically unlikely edits, the CSV release.

The file opens with one quoted cell holding the AMA copyright notice, then the header
(`HCPCS/CPT Code`, `<Practitioner|Outpatient Hospital|DME Supplier> Services MUE Values`,
`MUE Adjudication Indicator`, `MUE Rationale`), then one row per code: the code, the MUE
value, the indicator as text ("2 Date of Service Edit: Policy"), the rationale.

MUE files are quarterly snapshots. With an effective date (--effective, or `Eff_MM-DD-YYYY`
in the file name) a changed value starts a new row and closes the one before it, and a code
the new quarter drops has its value closed the day before; an unchanged value keeps its row.
"""

from __future__ import annotations

import datetime
import re

from codes.changes import changes_record, mue_change
from codes.importers import bulk
from codes.importers.base import CODE_CELL, Counts, Importer, SourceFile, csv_records, hinted
from codes.models import CodeChange, EditEdition, MueValue

HEADER_SEARCH_ROWS = 10
SERVICE_HINTS = {
    "practitioner": ("PRACTITIONER",),
    "hospital": ("OUTPATIENT HOSPITAL", "HOSPITAL", "FACILITY"),
    "dme": ("DME",),
}
EFFECTIVE_IN_NAME = re.compile(r"EFF[_ -]?(\d{2})[-_](\d{2})[-_](\d{4})", re.IGNORECASE)
QUARTER_IN_NAME = re.compile(r"(\d{4})[_ -]?Q([1-4])", re.IGNORECASE)
VALUE_FIELDS = ["value", "adjudication", "rationale"]


def _same(row: dict[str, object], values: dict[str, object]) -> bool:
    return all(row[name] == values[name] for name in VALUE_FIELDS)


class _Feed:
    """The MUE changes of one import, each against the edition its earlier value came from."""

    def __init__(self, edition: EditEdition | None, service: str) -> None:
        self.edition, self.service = edition, service
        self.editions = {e.pk: e for e in EditEdition.objects.filter(kind=EditEdition.Kind.MUE)}
        self.changes: list[CodeChange] = []

    def add(self, code: str, before: dict | None, after: dict | None) -> None:
        earlier = self.editions.get(before["edition_id"]) if before else None
        change = mue_change(
            code=code,
            before=before,
            after=after,
            edition_before=earlier,
            edition_after=self.edition,
            service=self.service,
        )
        if change is not None:
            self.changes.append(change)


class MueImporter(Importer):
    format = "cms-mue"
    title = "CMS medically unlikely edits (MUE)"
    primary = "MUE values"
    tables = (MueValue,)

    def parse(self) -> None:
        records = list(csv_records(self.source, self.source.text(self.options.encoding)))
        header_at = next(
            (
                i
                for i, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS])
                if len(cells) >= 4 and "CODE" in cells[0].upper() and "MUE" in cells[1].upper()
            ),
            None,
        )
        if header_at is None:
            raise self.error(
                "no header row (HCPCS/CPT Code, … MUE Values, MUE Adjudication Indicator, MUE "
                f"Rationale) in the first {HEADER_SEARCH_ROWS} rows: not an MUE file"
            )
        line, header = records[header_at]
        # The AMA notice is one quoted cell over several lines; the heading's first cell holds
        # a line break ("HCPCS/\nCPT Code"), so the header ends a line after it starts.
        self.skip("notice lines before the heading", records[header_at - 1][0] if header_at else 0)
        self.service = self._service(header[1], line)
        self.effective = self._effective()
        self.version = self._version()
        self.edition = self.edition or (
            f"{self.version}, effective {self.effective.isoformat()}" if self.effective else ""
        )
        self.values: dict[str, dict[str, object]] = {}
        self.read_rows(records[header_at + 1 :], self._row)
        if not self.values:
            raise self.error("no MUE rows after the header")

    def _service(self, column: str, line: int) -> str:
        found = hinted(column, SERVICE_HINTS)
        if self.options.setting:
            if found and found != self.options.setting:
                self.warn(
                    f"the header says {found} but --setting says {self.options.setting}; "
                    "--setting wins",
                    line=line,
                )
            return self.options.setting
        found = found or hinted(self.source.name, SERVICE_HINTS)
        if found is None:
            raise self.error(
                "the header does not say whose services these are; pass --setting",
                line=line,
                field=column,
            )
        return found

    def _version(self) -> str:
        """2024 Q2 for values effective 2024-04-01: CMS updates MUEs each quarter."""
        if self.effective is None:
            return ""
        return f"{self.effective.year} Q{(self.effective.month - 1) // 3 + 1}"

    @classmethod
    def fits(cls, source: SourceFile) -> bool:
        with source.open() as stream:
            head = stream.read(4096).decode("cp1252", errors="replace").upper()
        return "MUE" in head and "CODE" in head

    def _effective(self) -> datetime.date | None:
        if self.options.effective:
            return self.options.effective
        match = EFFECTIVE_IN_NAME.search(self.source.name)
        try:
            if match:
                month, day, year = (int(g) for g in match.groups())
                return datetime.date(year, month, day)
        except ValueError:
            pass
        quarter = QUARTER_IN_NAME.search(self.source.name)
        if quarter:
            return datetime.date(int(quarter.group(1)), 3 * int(quarter.group(2)) - 2, 1)
        self.warn(
            "no effective date (--effective, or Eff_MM-DD-YYYY in the file name): values "
            "are kept without one and replace the undated values"
        )
        return None

    def _row(self, number: int, cells: list[str]) -> None:
        if len(cells) < 3:
            raise self.error(f"{len(cells)} columns, expected 4: a truncated row", line=number)
        code = cells[0].strip().upper()
        if not CODE_CELL.fullmatch(code):
            raise self.error(
                f"{code!r} is not a HCPCS/CPT code", line=number, field="HCPCS/CPT Code"
            )
        value_text = cells[1].strip()
        if not value_text.isdigit():
            raise self.error(
                f"{value_text!r} is not a whole number", line=number, field="MUE Values"
            )
        indicator = " ".join(cells[2].split())
        number_part = indicator[:1]
        if number_part not in ("1", "2", "3"):
            raise self.error(
                f"{indicator!r}: expected 1, 2 or 3 and its name",
                line=number,
                field="MUE Adjudication Indicator",
            )
        adjudication = int(number_part)
        label = MueValue.Adjudication(adjudication).label.replace(" — ", " ")
        if indicator != number_part and indicator.lower() != label.lower():
            self.warn(
                f"{indicator!r} does not read {label!r}",
                line=number,
                field="MUE Adjudication Indicator",
            )
        rationale = self.fit(",".join(cells[3:]), 200, line=number, field="MUE Rationale")
        if code in self.values:
            self.warn(f"{code} appears twice; the later row wins", line=number)
        self.values[code] = {
            "value": int(value_text),
            "adjudication": adjudication,
            "rationale": rationale,
        }

    def _edition_record(self) -> EditEdition | None:
        """This quarter's edition (none without an effective date), created unless a dry run.
        An edition older than one already imported does not relabel newer rows."""
        if self.effective is None:
            return None
        edition = EditEdition.objects.filter(
            kind=EditEdition.Kind.MUE, setting=self.service, version=self.version
        ).first() or EditEdition(
            kind=EditEdition.Kind.MUE,
            setting=self.service,
            version=self.version,
            effective_date=self.effective,
        )
        edition.effective_date = self.effective
        edition.source = self.label[:500]
        self.edition = edition.make_label()
        if self.options.dry_run:
            return None
        edition.save()
        return edition

    def apply(self) -> None:
        counts = Counts()
        effective = self.effective
        edition = self._edition_record()
        rows = MueValue.objects.filter(service=self.service).values(
            "id", "code", "effective_date", "deletion_date", "edition_id", *VALUE_FIELDS
        )
        exact: dict[str, dict] = {}
        open_before: dict[str, dict] = {}  # the value in force just before this file
        for row in rows:
            if row["effective_date"] == effective:
                exact[row["code"]] = row
            elif (
                effective is not None
                and row["deletion_date"] is None
                and (row["effective_date"] is None or row["effective_date"] < effective)
            ):
                held = open_before.get(row["code"])
                if held is None or (held["effective_date"] or datetime.date.min) < (
                    row["effective_date"] or datetime.date.min
                ):
                    open_before[row["code"]] = row
        creates, updates, closes, relabels = [], [], [], []
        close_on = effective - datetime.timedelta(days=1) if effective else None
        # The first MUE values ever imported for a service are no news; after that, each
        # value or indicator that moves is recorded for the change feed.
        feed = _Feed(edition, self.service) if (exact or open_before) and self.feed_run else None
        for code, values in self.values.items():
            row = exact.get(code)
            if row is not None:
                if row["deletion_date"] is None and _same(row, values):
                    counts.unchanged += 1
                    if edition and row["edition_id"] != edition.pk:
                        relabels.append((row["id"], edition.pk))
                else:
                    updates.append((row["id"], *(values[f] for f in VALUE_FIELDS), None))
                    counts.updated += 1
                    if feed:
                        feed.add(code, row if row["deletion_date"] is None else None, values)
                continue
            before = open_before.get(code)
            if feed:
                feed.add(code, before, values)
            if before is not None and _same(before, values):
                counts.unchanged += 1  # the value stands; the newer edition now vouches for it
                if edition and before["edition_id"] != edition.pk:
                    relabels.append((before["id"], edition.pk))
                continue
            creates.append(
                (
                    code,
                    self.service,
                    effective,
                    edition.pk if edition else None,
                    *(values[f] for f in VALUE_FIELDS),
                )
            )
            if before is None:
                counts.added += 1
            else:
                closes.append((before["id"], close_on))
                counts.updated += 1
        if close_on is not None:
            for code, row in open_before.items():
                if code not in self.values:
                    closes.append((row["id"], close_on))
                    counts.deleted += 1
                    if feed:
                        feed.add(code, row, None)
        self.counts[self.primary] = counts
        if feed:
            changes_record(run=self.feed_run, changes=feed.changes)
        if self.options.dry_run or not (creates or updates or closes or relabels):
            return
        with self.progress(
            "Writing", len(creates) + len(updates) + len(closes), unit="values"
        ) as bar:
            bulk.update_rows(MueValue, ["deletion_date"], closes, step=bar.advance)
            bulk.update_rows(MueValue, [*VALUE_FIELDS, "deletion_date"], updates, step=bar.advance)
            bulk.update_rows(MueValue, ["edition"], relabels)
            bulk.insert_rows(
                MueValue,
                ["code", "service", "effective_date", "edition", *VALUE_FIELDS],
                creates,
                step=bar.advance,
            )
