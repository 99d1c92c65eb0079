"""`ama-cpt`: the AMA's CPT data files, imported together as one edition.

- `LONGULT.txt` (required): tab-delimited, `code<TAB>long descriptor`, one code a line.
- `MEDU.txt`, `SHORTU.txt` (optional): the medium and short descriptors, `code` then a space
  (the fixed-field layout) or a tab, then the descriptor.
- the consumer-friendly descriptor file (optional): a header row `Concept Id`, `CPT Code`,
  `Consumer Friendly Descriptor`, tab- or pipe-delimited.

Lines before the first code line (a copyright notice) are read for the copyright year only.
Give the files, or the folder that holds them; the edition year comes from --edition or from a
year in the folder or file names.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from django.core.management.base import CommandError

from codes.importers.base import SourceFile, shorten, year_in
from codes.importers.codesets import CodeEntry, CodeSetImporter
from codes.importers.groups import static_groups
from codes.models import Code
from codes.normalize import canonical_code

ADDON_PHRASE = re.compile(r"list separately in addition to", re.IGNORECASE)
FIXED_LINE = re.compile(r"(?P<code>[0-9A-Za-z]{5})(?:\t| )(?P<text>.*)")
KINDS = {"LONGULT": "long", "MEDU": "medium", "SHORTU": "short"}
CONSUMER_HEADER = ("concept id", "cpt code", "consumer friendly descriptor")
SHORT_FALLBACK = 100  # a new code without SHORTU gets its medium or long descriptor cut here


def _kind_by_name(path: Path) -> str | None:
    stem = path.stem.upper()
    kind = next((k for prefix, k in KINDS.items() if stem.startswith(prefix)), None)
    if kind is None and "CONSUMER" in stem:
        return "consumer"
    return kind


class CptImporter(CodeSetImporter):
    format = "ama-cpt"
    title = "AMA CPT data files"
    system_slug = "cpt"

    @classmethod
    def bundles(cls, paths: list[Path]) -> list[list[Path]]:
        files: list[Path] = []
        for path in paths:
            if path.is_dir():
                files.extend(sorted(p for p in path.iterdir() if p.is_file() and _kind_by_name(p)))
            else:
                files.append(path)
        longs = [p for p in files if _kind_by_name(p) == "long"]
        if len(longs) != 1:
            raise CommandError(
                "ama-cpt needs exactly one LONGULT.txt (one edition at a time); got "
                f"{', '.join(p.name for p in longs) or 'none'}"
            )
        return [longs + [p for p in files if p not in longs]]

    def parse(self) -> None:
        self.descriptors: dict[str, dict[str, str]] = {}
        self.copyright_year: int | None = None
        self.sources.sort(key=lambda source: _kind_by_name(source.path) != "long")
        self.source = self.sources[0]
        if _kind_by_name(self.source.path) != "long":
            raise self.error("ama-cpt needs LONGULT.txt, the long descriptors")
        for source in self.sources:
            kind = _kind_by_name(source.path) or self._sniff(source)
            if kind is None:
                raise self.error(
                    "not one of the CPT data files (LONGULT.txt, MEDU.txt, SHORTU.txt, "
                    "consumer-friendly descriptors)",
                    source=source,
                )
            if kind in self.descriptors:
                raise self.error(f"a second {kind} descriptor file in one import", source=source)
            if kind == "consumer":
                self.descriptors[kind] = self._read_consumer(source)
            else:
                self.descriptors[kind] = self._read_coded(source, kind)
            for code in self.descriptors[kind].keys() - self.descriptors["long"].keys():
                self.warn(f"{code} is not in {self.source.name}; skipped", source=source)
        self._settle_edition()

    def _sniff(self, source: SourceFile) -> str | None:
        first = source.text(self.options.encoding).lstrip().split("\n", 1)[0].lower()
        return "consumer" if all(name in first for name in CONSUMER_HEADER) else None

    def _read_coded(self, source: SourceFile, kind: str) -> dict[str, str]:
        found: dict[str, str] = {}
        lines = source.lines(self.options.encoding)
        started = False
        with self.progress(f"Reading {source.name}", len(lines), unit="lines") as bar:
            for number, line in enumerate(lines, start=1):
                bar.advance()
                if not line.strip():
                    continue
                if kind == "long":
                    code, sep, text = line.partition("\t")
                    match = bool(sep) and len(code.strip()) == 5
                else:
                    parsed = FIXED_LINE.fullmatch(line.rstrip())
                    match = parsed is not None
                    code, text = (parsed["code"], parsed["text"]) if parsed else ("", "")
                if not started and not (match and canonical_code("cpt", code.strip())):
                    self.copyright_year = self.copyright_year or (
                        year_in(line) if "copyright" in line.lower() else None
                    )
                    continue
                started = True
                if not match:
                    layout = "code<TAB>descriptor" if kind == "long" else "code descriptor"
                    raise self.error(f"expected {layout}", line=number, source=source)
                self._store(found, source, number, code.strip(), text, "code")
        if not found:
            raise self.error("no CPT code lines found: not an AMA CPT data file", source=source)
        return found

    def _read_consumer(self, source: SourceFile) -> dict[str, str]:
        found: dict[str, str] = {}
        lines = source.lines(self.options.encoding)
        header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
        if header_at is None:
            raise self.error("empty file", source=source)
        header = lines[header_at]
        delimiter = "\t" if "\t" in header else "|"
        names = [name.strip().lower() for name in header.split(delimiter)]
        if tuple(names[:3]) != CONSUMER_HEADER:
            raise self.error(
                "the header must be Concept Id, CPT Code, Consumer Friendly Descriptor",
                line=header_at + 1,
                source=source,
            )
        for number, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
            if not line.strip():
                continue
            cells = line.split(delimiter)
            if len(cells) < 3:
                raise self.error(f"{len(cells)} columns, expected 3", line=number, source=source)
            concept = cells[0].strip()
            if not concept.isdigit():
                raise self.error(
                    f"{concept!r} is not a concept id",
                    line=number,
                    field="Concept Id",
                    source=source,
                )
            self._store(
                found, source, number, cells[1].strip(), delimiter.join(cells[2:]), "CPT Code"
            )
        return found

    def _store(
        self,
        found: dict[str, str],
        source: SourceFile,
        number: int,
        raw: str,
        text: str,
        field: str,
    ) -> None:
        code = canonical_code("cpt", raw)
        if code is None:
            raise self.error(f"{raw!r} is not a CPT code", line=number, field=field, source=source)
        text = " ".join(text.split())
        if not text:
            raise self.error(
                f"{code} has no descriptor", line=number, field="descriptor", source=source
            )
        if code in found:
            self.warn(f"{code} is listed twice; the later line wins", line=number, source=source)
        found[code] = text

    def _settle_edition(self) -> None:
        places = [self.edition, *(str(s.path.resolve()) for s in self.sources)]
        year = next((y for y in map(year_in, places) if y), None)
        if year is None:
            raise self.error(
                "cannot tell the CPT edition from the file or folder names; pass "
                "--edition (e.g. --edition 2026)"
            )
        self.year = year
        self.edition = self.edition or str(year)
        self.effective = self.options.effective or datetime.date(year, 1, 1)

    # --- Writing -----------------------------------------------------------------------------

    def _entry(self, code: str, long: str) -> CodeEntry:
        fields: dict[str, object] = {
            "long_descriptor": long,
            "status": Code.Status.ACTIVE,
            "end_date": None,
        }
        for kind, name, limit in (
            ("medium", "medium_descriptor", 400),
            ("short", "short_descriptor", 200),
            ("consumer", "consumer_descriptor", None),
        ):
            text = self.descriptors.get(kind, {}).get(code)
            if text is not None:
                fields[name] = shorten(text, limit) if limit else text
        if ADDON_PHRASE.search(long):
            fields["is_addon"] = True
        medium = self.descriptors.get("medium", {}).get(code)
        return CodeEntry(
            code=code,
            fields=fields,
            defaults={"short_descriptor": shorten(medium or long, SHORT_FALLBACK)},
            group=static_groups("cpt").group_for(code),
        )

    def apply(self) -> None:
        longs = self.descriptors["long"]
        self.sync(
            entries=[self._entry(code, text) for code, text in longs.items()],
            groups=static_groups("cpt").entries(longs),
            groups_replace=False,
            copyright_year=self.copyright_year or self.year - 1,
        )
