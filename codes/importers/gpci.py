"""`cms-gpci` and `cms-locality`: the Medicare payment localities and their cost indices.

`cms-gpci` reads Addendum E of a PFS final rule (`GPCI2025.csv`): a title row and a blank row,
then the heading (MAC, state, locality number, locality name, work/PE/MP GPCI), 109 rows, and
footnotes. A spreadsheet saved the 2025 file with numbers where CMS writes codes: MAC `6302`
is 06302 and locality `1` is 01, so both are padded back. Names end in asterisks that point at
the footnotes (the Alaska work floor, the frontier PE floor); the asterisks are dropped from
the name and the footnote kept with that year's GPCIs.

`cms-locality` reads the counties file (`25LOCCO1.csv`): MAC, locality number, state (only
on a state's first row), fee schedule area and counties, with blank rows between states.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from codes.importers.base import Counts, Importer, csv_records, is_end_marker, year_in
from codes.models import Gpci, Locality

HEADER_SEARCH_ROWS = 20
FOOTNOTE = re.compile(r"^(\*+)\s*(.+)$")
TRAILING_STARS = re.compile(r"\s*(\*+)\s*$")


def mac_code(text: str) -> str | None:
    """A MAC number as CMS writes it (five digits), restoring a lost leading zero."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not 4 <= len(text) <= 5:
        return None
    return text.zfill(5)


def locality_code(text: str) -> str | None:
    """A locality number as CMS writes it (two digits): `1` → `01`."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= len(text) <= 2:
        return None
    return text.zfill(2)


def _name_and_stars(text: str) -> tuple[str, str]:
    name = " ".join(text.split())
    match = TRAILING_STARS.search(name)
    if match is None:
        return name, ""
    return name[: match.start()].strip(), match.group(1)


class GpciImporter(Importer):
    format = "cms-gpci"
    title = "Medicare GPCIs by locality (PFS Addendum E)"
    primary = "GPCIs"
    tables = (Locality, Gpci)

    COLUMNS = {  # field -> words its heading cell contains
        "mac": ("ADMINISTRATIVE CONTRACTOR", "MAC"),
        "state": ("STATE",),
        "number": ("LOCALITY NUMBER",),
        "name": ("LOCALITY NAME",),
        "work": ("PW GPCI", "WORK GPCI"),
        "pe": ("PE GPCI",),
        "mp": ("MP GPCI",),
    }

    def parse(self) -> None:
        records = list(csv_records(self.source, self.source.text(self.options.encoding)))
        header_at = next(
            (
                i
                for i, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS])
                if any("LOCALITY N" in " ".join(c.upper().split()) for c in cells)
                and any("GPCI" in c.upper() for c in cells)
            ),
            None,
        )
        if header_at is None:
            raise self.error(
                f"no heading row naming the locality and its GPCIs in the first "
                f"{HEADER_SEARCH_ROWS} rows: not an Addendum E GPCI file"
            )
        number, heading = records[header_at]
        self.columns = self._columns(heading, number)
        title = " ".join(" ".join(cells) for _, cells in records[:header_at])
        self.year = (
            year_in(self.edition)
            or year_in(" ".join(heading))
            or year_in(title)
            or year_in(self.source.name)
        )
        if self.year is None:
            raise self.error(
                "cannot tell the GPCI year from the heading or file name; pass --edition"
            )
        self.edition = self.edition or f"CY{self.year} Addendum E"
        self.skip("title and heading lines", header_at + 1)
        self.rows: dict[tuple[str, str], dict[str, object]] = {}
        footnotes: dict[str, str] = {}
        in_footer = False
        for line, cells in records[header_at + 1 :]:
            if is_end_marker(cells):
                self.skip("blank lines")
                continue
            first = cells[0].strip()
            note = FOOTNOTE.match(first)
            if note:
                footnotes[note.group(1)] = " ".join(note.group(2).split())
            if in_footer or mac_code(first) is None:
                # Rows after the table (the MAC assignment date, footnotes, notes) are not
                # localities; a broken row in the middle of the table is an error.
                if not in_footer and not self.rows:
                    raise self.error(f"{first!r} is not a MAC number", line=line, field="MAC")
                in_footer = True
                self.skip("footnote lines")
                continue
            self._row(line, cells)
        if not self.rows:
            raise self.error("no locality rows after the heading")
        for values in self.rows.values():
            stars = values.pop("stars")
            values["notes"] = [footnotes[stars]] if stars in footnotes else []

    def _columns(self, heading: list[str], line: int) -> dict[str, int]:
        found: dict[str, int] = {}
        upper = [" ".join(cell.split()).upper() for cell in heading]
        for name, words in self.COLUMNS.items():
            at = next(
                (i for i, cell in enumerate(upper) if any(word in cell for word in words)), None
            )
            if at is None:
                raise self.error(f"the heading has no {words[0]} column", line=line)
            found[name] = at
        # "MAC" is also inside other words; the contractor column is the first one.
        return found

    def _row(self, line: int, cells: list[str]) -> None:
        width = max(self.columns.values()) + 1
        if len(cells) < width:
            raise self.error(f"{len(cells)} columns, the heading has {width}", line=line)
        mac = mac_code(cells[self.columns["mac"]])
        number = locality_code(cells[self.columns["number"]])
        if number is None:
            raise self.error(
                f"{cells[self.columns['number']]!r} is not a locality number",
                line=line,
                field="Locality Number",
            )
        state = cells[self.columns["state"]].strip().upper()
        if len(state) != 2 or not state.isalpha():
            raise self.error(f"{state!r} is not a state abbreviation", line=line, field="State")
        name, stars = _name_and_stars(cells[self.columns["name"]])
        if not name:
            raise self.error("no locality name", line=line, field="Locality Name")
        values: dict[str, object] = {
            "state": state,
            "name": self.fit(name, 200, line=line, field="Locality Name"),
            "stars": stars,
        }
        for field in ("work", "pe", "mp"):
            values[field] = self._index(line, cells[self.columns[field]], field)
        key = (mac, number)
        if key in self.rows:
            self.warn(f"MAC {mac} locality {number} appears again; the later row wins", line=line)
        self.rows[key] = values

    def _index(self, line: int, text: str, field: str) -> Decimal:
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise self.error(
                f"{text!r} is not a number", line=line, field=f"{field} GPCI"
            ) from None
        if not value.is_finite() or not 0 < value < 10:
            raise self.error(f"{text!r} is not a plausible GPCI", line=line, field=f"{field} GPCI")
        return value.quantize(Decimal("0.001"))

    def apply(self) -> None:
        localities = {(loc.mac, loc.number): loc for loc in Locality.objects.all()}
        place_counts, gpci_counts = Counts(), Counts()
        for (mac, number), values in sorted(self.rows.items()):
            locality = localities.get((mac, number))
            if locality is None:
                place_counts.added += 1
                locality = Locality(
                    mac=mac, number=number, state=values["state"], name=values["name"]
                )
                if not self.options.dry_run:
                    locality.save()
                localities[(mac, number)] = locality
            elif (locality.state, locality.name) != (values["state"], values["name"]):
                place_counts.updated += 1
                locality.state, locality.name = values["state"], values["name"]
                if not self.options.dry_run:
                    locality.save(update_fields=["state", "name"])
            else:
                place_counts.unchanged += 1
        existing = {
            (g.locality_id, g.year): g
            for g in Gpci.objects.filter(
                year=self.year,
                locality__in=[loc for loc in localities.values() if loc.pk is not None],
            )
        }
        creates, updates = [], []
        for key, values in self.rows.items():
            locality = localities[key]
            wanted = {
                "work": values["work"],
                "pe": values["pe"],
                "mp": values["mp"],
                "edition": self.edition,
                "notes": values["notes"],
            }
            current = existing.get((locality.pk, self.year))
            if current is None:
                gpci_counts.added += 1
                creates.append(Gpci(locality=locality, year=self.year, **wanted))
            elif any(getattr(current, name) != value for name, value in wanted.items()):
                gpci_counts.updated += 1
                for name, value in wanted.items():
                    setattr(current, name, value)
                updates.append(current)
            else:
                gpci_counts.unchanged += 1
        if not self.options.dry_run:
            Gpci.objects.bulk_create(creates)
            Gpci.objects.bulk_update(updates, ["work", "pe", "mp", "edition", "notes"])
        self.counts["GPCIs"] = gpci_counts
        self.counts["localities"] = place_counts


class LocalityImporter(Importer):
    format = "cms-locality"
    title = "Counties in each Medicare locality (LOCCO)"
    primary = "localities"
    tables = (Locality,)

    def parse(self) -> None:
        records = list(csv_records(self.source, self.source.text(self.options.encoding)))
        header_at = next(
            (
                i
                for i, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS])
                if any("COUNTIES" in c.upper() for c in cells[3:])
                and any("LOCALITY" in c.upper() for c in cells)
            ),
            None,
        )
        if header_at is None:
            raise self.error(
                f"no heading row with Locality Number and Counties in the first "
                f"{HEADER_SEARCH_ROWS} rows: not a locality counties file"
            )
        self.year = year_in(self.edition) or year_in(
            " ".join(c for _, cells in records[:header_at] for c in cells)
        )
        if self.year is None:
            match = re.match(r"(\d\d)LOCCO", self.source.name.upper())
            self.year = 2000 + int(match.group(1)) if match else None
        self.edition = self.edition or (f"{self.year} LOCCO" if self.year else "LOCCO")
        self.skip("title and heading lines", header_at + 1)
        self.rows: dict[tuple[str, str], dict[str, str]] = {}
        state = ""
        in_footer = False
        for line, cells in records[header_at + 1 :]:
            if is_end_marker(cells):
                self.skip("blank lines")
                continue
            cells = [*cells, "", "", "", "", ""][:5]
            mac = mac_code(cells[0])
            if in_footer or mac is None:
                if not self.rows:
                    raise self.error(
                        f"{cells[0].strip()!r} is not a MAC number", line=line, field="MAC"
                    )
                in_footer = True
                self.skip("footnote lines")
                continue
            number = locality_code(cells[1])
            if number is None:
                raise self.error(
                    f"{cells[1].strip()!r} is not a locality number",
                    line=line,
                    field="Locality Number",
                )
            # The state is written on its first row only; the rows below it belong to it.
            state = " ".join(cells[2].split()) or state
            area, _ = _name_and_stars(cells[3])
            counties = " ".join(cells[4].split())
            values = {
                "state_name": self.fit(
                    state.title().replace(" Of ", " of "), 60, line=line, field="State"
                ),
                "area": self.fit(area, 200, line=line, field="Fee Schedule Area"),
                "counties": counties,
            }
            held = self.rows.get((mac, number))
            if held is not None and held != values:
                # One locality served by two contractors' rows: keep every county once.
                if counties and counties not in held["counties"]:
                    held["counties"] = f"{held['counties']}; {counties}"
                continue
            self.rows[(mac, number)] = values
        if not self.rows:
            raise self.error("no locality rows after the heading")

    def apply(self) -> None:
        localities = {(loc.mac, loc.number): loc for loc in Locality.objects.all()}
        counts = Counts()
        fields = ["state_name", "area", "counties"]
        for key, values in sorted(self.rows.items()):
            locality = localities.get(key)
            if locality is None:
                # Known from this file alone until the GPCI file names it.
                counts.added += 1
                locality = Locality(mac=key[0], number=key[1], name=values["area"], **values)
                if not self.options.dry_run:
                    locality.save()
                continue
            if all(getattr(locality, name) == values[name] for name in fields):
                counts.unchanged += 1
                continue
            counts.updated += 1
            for name in fields:
                setattr(locality, name, values[name])
            if not self.options.dry_run:
                locality.save(update_fields=fields)
        self.counts["localities"] = counts
