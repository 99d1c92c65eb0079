"""`cms-pfs-rvu`: the Medicare Physician Fee Schedule relative value file (PPRRVU), CSV.

The file opens with title and copyright lines, then a header spread over several rows (the
column "WORK RVU" is "WORK" on one row and "RVU" on the next); the row that starts with
"HCPCS,MOD" ends it. Columns are found by their joined header names, so a release that moves
a column still reads right. Each data row is one line per code and modifier (26, TC, 53 lines
are separate). An "NA" indicator means the PE RVU does not apply in that setting: the RVU and
its total are stored empty and the file's figures kept in `extra`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from codes.changes import RVU_FIELDS, changes_record, pfs_label, rvu_change
from codes.importers import bulk
from codes.importers.base import Counts, Importer, csv_records, year_in
from codes.importers.codesets import CodeEntry, SyncPolicy, sync_code_set
from codes.importers.groups import static_groups
from codes.importers.systems import system_for_import
from codes.models import Code, CodeChange, RvuLine
from codes.normalize import SYSTEMS
from codes.payment import release_start

HEADER_SEARCH_ROWS = 40
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTH_NAMES = {  # "JANUARY" in the title -> "JAN" in the edition
    name: name[:3]
    for name in [
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
    ]
}
GLOBAL_DAYS = {"000", "010", "090", "MMM", "XXX", "YYY", "ZZZ"}

# Joined header name -> RvuLine field.
DECIMALS = {
    "WORK RVU": "work_rvu",
    "NON-FAC PE RVU": "nonfacility_pe_rvu",
    "FACILITY PE RVU": "facility_pe_rvu",
    "MP RVU": "mp_rvu",
    "NON-FACILITY TOTAL": "nonfacility_total",
    "FACILITY TOTAL": "facility_total",
    "CONV FACTOR": "conversion_factor",
}
INDICATORS = {
    "STATUS CODE": "status_code",
    "PCTC IND": "pctc_indicator",
    "GLOB DAYS": "global_days",
    "MULT PROC": "mult_proc",
    "BILAT SURG": "bilat_surg",
    "ASST SURG": "asst_surg",
    "CO-SURG": "co_surg",
    "TEAM SURG": "team_surg",
}
REQUIRED = [
    "HCPCS",
    "MOD",
    "DESCRIPTION",
    *DECIMALS,
    *INDICATORS,
    "NON-FAC NA INDICATOR",
    "FACILITY NA INDICATOR",
]
NOT_APPLICABLE = {  # NA indicator column -> the figures it blanks
    "NON-FAC NA INDICATOR": ("nonfacility_pe_rvu", "nonfacility_total"),
    "FACILITY NA INDICATOR": ("facility_pe_rvu", "facility_total"),
}
FIELDS = ["description", *INDICATORS.values(), *DECIMALS.values(), "extra"]


def _header_name(parts: list[str]) -> str:
    name = " ".join(" ".join(part.split()) for part in parts if part.strip()).upper()
    return name.replace("CO- SURG", "CO-SURG")


# Short names for the columns kept in RvuLine.extra (as the demo fee schedule lines use them);
# a column a later release adds is kept under its header in snake case.
EXTRA_KEYS = {
    "PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES": "physician_supervision",
    "DIAGNOSTIC IMAGING FAMILY INDICATOR": "imaging_family",
    "NON-FACILITY PE USED FOR OPPS PAYMENT AMOUNT": "opps_nonfacility_pe",
    "FACILITY PE USED FOR OPPS PAYMENT AMOUNT": "opps_facility_pe",
    "MP USED FOR OPPS PAYMENT AMOUNT": "opps_mp",
}


def _extra_key(name: str) -> str:
    return EXTRA_KEYS.get(name) or re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class PfsImporter(Importer):
    format = "cms-pfs-rvu"
    title = "Medicare PFS relative value file (PPRRVU)"
    primary = "RVU lines"
    tables = (RvuLine, Code)

    def parse(self) -> None:
        records = list(csv_records(self.source, self.source.text(self.options.encoding)))
        header_at = next(
            (
                i
                for i, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS])
                if [c.strip().upper() for c in cells[:2]] == ["HCPCS", "MOD"]
            ),
            None,
        )
        if header_at is None:
            raise self.error(
                f"no header row starting HCPCS,MOD in the first {HEADER_SEARCH_ROWS} rows: not a "
                "PPRRVU relative value file"
            )
        self._read_titles([cells for _, cells in records[:header_at]])
        self.columns = self._columns(records, header_at)
        self._layout()
        self.lines: dict[tuple[str, str], dict[str, object]] = {}
        self.line_numbers: dict[tuple[str, str], int] = {}
        self.read_rows(records[header_at + 1 :], self._row)
        if not self.lines:
            raise self.error("no data rows after the header")

    def _read_titles(self, rows: list[list[str]]) -> None:
        titles = [" ".join(" ".join(cells).split()) for cells in rows]
        title = next((t for t in titles if "RELATIVE VALUE" in t.upper()), "")
        self.copyright = next((t for t in titles if "copyright" in t.lower()), "")
        year = year_in(self.edition) or year_in(title)
        month = next((MONTH_NAMES[w] for w in title.upper().split() if w in MONTH_NAMES), None)
        name = self.source.name.upper()
        if year is None:
            match = re.search(r"PPRRVU(\d{2})", name)
            year = 2000 + int(match.group(1)) if match else year_in(name)
        if month is None:
            month = next((m for m in MONTHS if m in name), None)
        if year is None:
            raise self.error(
                "cannot tell the release year from the title or file name; pass --edition"
            )
        self.year = year
        self.edition = self.edition or (f"{year}-{month}" if month else str(year))
        self.copyright_year = year_in(self.copyright)

    def _columns(self, records: list[tuple[int, list[str]]], header_at: int) -> dict[str, int]:
        start = header_at
        while start > 0 and any(c.strip() for c in records[start - 1][1][3:]):
            start -= 1
        block = [cells for _, cells in records[start : header_at + 1]]
        width = max(len(cells) for cells in block)
        names = {}
        for index in range(width):
            name = _header_name([cells[index] if index < len(cells) else "" for cells in block])
            if name:
                names.setdefault(name, index)
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            raise self.error(
                f"header lacks {', '.join(missing)}: not a PPRRVU layout this importer knows",
                line=records[header_at][0],
            )
        return names

    def _layout(self) -> None:
        """Column positions for each target, worked out once for the 18,000 rows."""
        index = self.columns
        self.width = max(index.values()) + 1
        self.decimal_columns = [(name, target, index[name]) for name, target in DECIMALS.items()]
        self.indicator_columns = [
            (name, target, index[name]) for name, target in INDICATORS.items()
        ]
        self.na_columns = [
            (index[name], _extra_key(name), fields) for name, fields in NOT_APPLICABLE.items()
        ]
        self.extra_columns = [
            (_extra_key(name), at) for name, at in index.items() if name not in REQUIRED
        ]

    def _row(self, number: int, raw: list[str]) -> None:
        if len(raw) < self.width:
            raise self.error(
                f"{len(raw)} columns, the header has {self.width}: a truncated row", line=number
            )
        cells = [cell.strip() for cell in raw]
        code = cells[self.columns["HCPCS"]].upper()
        if code.isascii() and code.isdigit() and len(code) < 5:
            # A spreadsheet dropped the leading zeros of the anesthesia codes (00100 → 100)
            # in the 2025 file; every CPT and HCPCS code is five characters.
            code = code.zfill(5)
        if len(code) != 5 or not code.isalnum() or not code.isascii():
            raise self.error(f"{code!r} is not a HCPCS/CPT code", line=number, field="HCPCS")
        modifier = cells[self.columns["MOD"]].upper()
        if len(modifier) > 2:
            raise self.error(f"{modifier!r} is not a modifier", line=number, field="MOD")
        description = self.fit(
            cells[self.columns["DESCRIPTION"]], 200, line=number, field="DESCRIPTION"
        )
        values: dict[str, object] = {"description": description}
        for name, target, at in self.decimal_columns:
            values[target] = self._decimal(number, cells[at], name)
        for name, target, at in self.indicator_columns:
            value = values[target] = cells[at]
            if len(value) > (3 if target == "global_days" else 2):
                raise self.error(f"{value!r} is too long for an indicator", line=number, field=name)
        if values["global_days"].isdigit():
            # The 2025 file was saved by a spreadsheet that wrote 000/010/090 as 0/10/90.
            values["global_days"] = values["global_days"].zfill(3)
        if values["global_days"] and values["global_days"] not in GLOBAL_DAYS:
            self.warn(
                f"unknown global period {values['global_days']!r}", line=number, field="GLOB DAYS"
            )
        if values["conversion_factor"] is None:
            raise self.error("no conversion factor", line=number, field="CONV FACTOR")
        extra: dict[str, object] = {}
        for at, key, fields in self.na_columns:
            if cells[at].upper() == "NA":
                extra[key] = "NA"
                for target in fields:
                    extra[f"{target}_in_file"] = str(values[target])
                    values[target] = None
        for key, at in self.extra_columns:
            if cells[at]:
                extra[key] = cells[at]
        values["extra"] = extra
        line_key = (code, modifier)
        if line_key in self.lines:
            self.warn(
                f"{code}{'-' + modifier if modifier else ''} appears again (first on line "
                f"{self.line_numbers[line_key]}); the later row wins",
                line=number,
            )
        self.lines[line_key] = values
        self.line_numbers[line_key] = number

    def _decimal(self, number: int, text: str, name: str) -> Decimal | None:
        if not text:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise self.error(f"{text!r} is not a number", line=number, field=name) from None
        if not value.is_finite() or abs(value) >= 1_000_000:
            raise self.error(f"{text!r} is out of range", line=number, field=name)
        return value

    # --- Writing -----------------------------------------------------------------------------

    def apply(self) -> None:
        self.counts["RVU lines"] = self._sync_lines()
        by_system: dict[str, dict[str, CodeEntry]] = {"cpt": {}, "hcpcs": {}}
        for (code, modifier), values in sorted(self.lines.items()):
            slug = next((s for s in ("hcpcs", "cpt") if SYSTEMS[s].pattern.fullmatch(code)), None)
            if slug is None:
                continue
            entry = by_system[slug].get(code)
            if entry is None or not modifier:
                entry = by_system[slug][code] = CodeEntry(
                    code=code,
                    fields=entry.fields if entry else {},
                    defaults={"short_descriptor": values["description"] or code},
                    group=static_groups(slug).group_for(code),
                )
            if values["global_days"] == "ZZZ":
                entry.fields["is_addon"] = True
        total = Counts()
        for slug, entries in by_system.items():
            if not entries:
                continue
            system = system_for_import(
                slug,
                edition=None,
                copyright_year=self.copyright_year or self.year,
                dry_run=self.options.dry_run,
            )
            result = sync_code_set(
                system=system,
                entries=list(entries.values()),
                groups=static_groups(slug).entries(entries),
                history=[],
                policy=SyncPolicy(source=self.format, year=self.year, groups_replace=False),
                dry_run=self.options.dry_run,
                progress=self.progress,
            )
            self.counts[f"{slug.upper()} codes"] = result.codes
            for name in ("added", "updated", "deleted", "unchanged"):
                setattr(total, name, getattr(total, name) + getattr(result.groups, name))
        self.counts["groups"] = total

    def _changes(self, *, stored: dict[tuple[str, str], tuple]) -> list[CodeChange]:
        """Each line's RVUs and payment against the release before this one (or against its
        own stored lines when this release is imported again); the first release on file
        has nothing to compare with."""
        start = release_start(edition=self.edition, year=self.year)
        if stored:
            earlier, earlier_start = self.edition, start
            lines = {key: dict(zip(FIELDS, row[3:], strict=True)) for key, row in stored.items()}
        else:
            releases = {
                (release_start(edition=edition, year=year), edition)
                for edition, year in RvuLine.objects.values_list("edition", "year").distinct()
            }
            before = max((r for r in releases if r[0] < start), default=None)
            if before is None:
                return []
            earlier_start, earlier = before
            lines = {
                (row["code"], row["modifier"]): row
                for row in RvuLine.objects.filter(edition=earlier).values(
                    "code", "modifier", *RVU_FIELDS
                )
            }
        # A release imported again from part of its file keeps the lines it does not list.
        keys = self.lines.keys() if stored else lines.keys() | self.lines.keys()
        found = []
        for key in sorted(keys):
            change = rvu_change(
                code=key[0],
                modifier=key[1],
                before=lines.get(key),
                after=self.lines.get(key),
                edition_before=pfs_label(earlier),
                edition_after=pfs_label(self.edition),
                effective_before=earlier_start,
                effective_after=start,
            )
            if change is not None:
                found.append(change)
        return found

    def _sync_lines(self) -> Counts:
        counts = Counts()
        existing = {
            (row[1], row[2]): row
            for row in RvuLine.objects.filter(edition=self.edition).values_list(
                "id", "code", "modifier", *FIELDS
            )
        }
        creates, updates = [], []
        for (code, modifier), values in self.lines.items():
            row = tuple(values[name] for name in FIELDS)
            current = existing.get((code, modifier))
            if current is None:
                counts.added += 1
                creates.append((code, modifier, self.edition, self.year, *row))
            elif current[3:] == row:
                counts.unchanged += 1
            else:
                counts.updated += 1
                updates.append((current[0], *row))
        if self.options.dry_run or not (creates or updates):
            return counts
        if self.feed_run:
            changes_record(run=self.feed_run, changes=self._changes(stored=existing))
        with self.progress("Writing", len(creates) + len(updates), unit="RVU lines") as bar:
            bulk.insert_rows(
                RvuLine, ["code", "modifier", "edition", "year", *FIELDS], creates, step=bar.advance
            )
            bulk.update_rows(RvuLine, FIELDS, updates, step=bar.advance)
        return counts
