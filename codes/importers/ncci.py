"""`cms-ncci-ptp`: CMS NCCI procedure-to-procedure edits, the tab-delimited text release.

The file starts with the AMA copyright notice and a header (`Column 1`, `Column 2`,
`*=in existence prior to 1996`, `Effective Date`, `Deletion Date *=no data`,
`Modifier 0=not allowed 1=allowed 9=not applicable`, `PTP Edit Rationale`). Each edit line:
column 1 code, column 2 code, `*` or nothing, the effective date (YYYYMMDD), the deletion date
or `*`, the modifier indicator, the rationale. Practitioner and outpatient hospital edits are
separate releases: the setting comes from --setting or the file name (ccipra / ccioph).

An edit that a file no longer lists stays as it was: CMS files keep deleted edits with their
deletion date, and the practitioner set is split over several files by code range.
"""

from __future__ import annotations

import re

from codes.importers import bulk
from codes.importers.base import CODE_CELL, Counts, Importer, hinted, parse_date
from codes.models import NcciEdit

HEADER = re.compile(r"^\s*column\s*1\b", re.IGNORECASE)
FIELDS = ["prior_1996", "deletion_date", "modifier_indicator", "rationale"]
SETTING_HINTS = {
    "practitioner": ("CCIPRA", "PRACTITIONER"),
    "hospital": ("CCIOPH", "HOSPITAL", "OUTPATIENT"),
}


class NcciImporter(Importer):
    format = "cms-ncci-ptp"
    title = "CMS NCCI procedure-to-procedure edits"
    primary = "PTP edits"
    tables = (NcciEdit,)

    def parse(self) -> None:
        self.setting = self._setting()
        version = re.search(r"v(\d+r\d+)", self.source.name, re.IGNORECASE)
        self.edition = self.edition or (version.group(1).lower() if version else "")
        lines = self.text_lines()
        self.edits: dict[tuple[str, str, object], dict[str, object]] = {}
        header_seen = data_seen = False
        with self.progress("Reading", len(lines), unit="lines") as bar:
            for number, line in enumerate(lines, start=1):
                bar.advance()
                if not line.strip(" \t\x1a"):
                    continue
                cells = line.split("\t")
                looks_like_data = bool(CODE_CELL.fullmatch(cells[0].strip())) and len(cells) > 1
                if not data_seen and not looks_like_data:
                    header_seen = header_seen or bool(HEADER.match(line))
                    continue
                if not header_seen:
                    raise self.error(
                        "edit lines before the Column 1 / Column 2 header: not an NCCI PTP file",
                        line=number,
                    )
                data_seen = True
                self._line(number, cells)
        if not self.edits:
            raise self.error("no edit lines found: not an NCCI PTP file (tab-delimited text)")

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

    def _line(self, number: int, cells: list[str]) -> None:
        if len(cells) < 6:
            raise self.error(
                f"{len(cells)} tab-separated fields, expected 7: a truncated line", line=number
            )
        column1, column2 = cells[0].strip().upper(), cells[1].strip().upper()
        for name, code in (("Column 1", column1), ("Column 2", column2)):
            if not CODE_CELL.fullmatch(code):
                raise self.error(f"{code!r} is not a HCPCS/CPT code", line=number, field=name)
        prior = cells[2].strip()
        if prior not in ("", "*"):
            raise self.error(
                f"{prior!r}: expected * or nothing", line=number, field="in existence prior to 1996"
            )
        effective = self._date(number, cells[3], "Effective Date")
        deletion_text = cells[4].strip()
        deletion = None if deletion_text == "*" else self._date(number, cells[4], "Deletion Date")
        indicator = cells[5].strip()
        if indicator not in NcciEdit.Indicator.values:
            raise self.error(f"{indicator!r}: expected 0, 1 or 9", line=number, field="Modifier")
        rationale = self.fit("\t".join(cells[6:]), 200, line=number, field="PTP Edit Rationale")
        if deletion and deletion < effective:
            self.warn("deletion date before the effective date", line=number, field="Deletion Date")
        key = (column1, column2, effective)
        if key in self.edits:
            self.warn(
                f"{column1}/{column2} from {effective} appears twice; the later line wins",
                line=number,
            )
        self.edits[key] = {
            "prior_1996": prior == "*",
            "deletion_date": deletion,
            "modifier_indicator": indicator,
            "rationale": rationale,
        }

    def _date(self, number: int, text: str, field: str):
        try:
            return parse_date(text)
        except ValueError as exc:
            raise self.error(str(exc), line=number, field=field) from exc

    def apply(self) -> None:
        counts = Counts()
        firsts = [key[0] for key in self.edits]
        existing = {
            (row["column1"], row["column2"], row["effective_date"]): row
            for row in NcciEdit.objects.filter(
                setting=self.setting, column1__gte=min(firsts), column1__lte=max(firsts)
            ).values("id", "column1", "column2", "effective_date", *FIELDS)
        }
        creates, updates = [], []
        for key, values in self.edits.items():
            current = existing.get(key)
            if current is None:
                counts.added += 1
                creates.append((*key, self.setting, *(values[f] for f in FIELDS)))
            elif all(current[f] == values[f] for f in FIELDS):
                counts.unchanged += 1
            else:
                if current["deletion_date"] is None and values["deletion_date"] is not None:
                    counts.deleted += 1
                else:
                    counts.updated += 1
                updates.append((current["id"], *(values[f] for f in FIELDS)))
        self.counts[self.primary] = counts
        if self.options.dry_run or not (creates or updates):
            return
        with self.progress("Writing", len(creates) + len(updates), unit="edits") as bar:
            bulk.insert_rows(
                NcciEdit,
                ["column1", "column2", "effective_date", "setting", *FIELDS],
                creates,
                step=bar.advance,
            )
            bulk.update_rows(NcciEdit, FIELDS, updates, step=bar.advance)
