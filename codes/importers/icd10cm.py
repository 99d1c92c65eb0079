"""`cdc-icd10cm-xml`: the CDC/NCHS ICD-10-CM tabular list in XML.

`<ICD10CM.tabular>` holds chapters, chapters hold sections, sections hold nested `<diag>`
elements (category › subcategory › code). Chapters, sections and three-character categories
become the group tree; every `<diag>` becomes a code, billable when it is a leaf. A
`<sevenChrDef>` table applies to every leaf below the element that defines it (the nearest
table wins): such a leaf is not billable itself, and each 7th character makes a billable code,
padded with the placeholder X to six characters first (S52.5 + A -> S52.5XXA).

Notes are kept as JSON on the group or code that carries them, one list of strings per kind:
`includes`, `inclusion_terms`, `excludes1`, `excludes2`, `code_first`, `code_also`,
`use_additional_code`, `notes`, `seventh_character_note`; a table itself is
`seventh_characters` ([{"char", "meaning"}]), and an expanded code has `seventh_character`.
"""

from __future__ import annotations

import datetime
import re
from xml.etree import ElementTree as ET

from codes.importers.base import shorten, year_in
from codes.importers.codesets import CodeEntry, CodeSetImporter, GroupEntry
from codes.models import Code, CodeGroup
from codes.normalize import canonical_code, code_key

ROOT = "ICD10CM.tabular"
NOTE_KINDS = {
    "includes": "includes",
    "inclusionTerm": "inclusion_terms",
    "excludes1": "excludes1",
    "excludes2": "excludes2",
    "codeFirst": "code_first",
    "codeAlso": "code_also",
    "useAdditionalCode": "use_additional_code",
    "notes": "notes",
    "sevenChrNote": "seventh_character_note",
}
RANGE_SUFFIX = re.compile(r"\s*\(([A-Z0-9.]+)(?:-([A-Z0-9.]+))?\)\s*$")
# What the tabular list allows (letter, two characters, up to four after the dot); newer
# editions use letters in the second place (QA0), which the site's spelling rule may not.
OFFICIAL_SHAPE = re.compile(r"[A-Z][0-9A-Z]{2}(?:\.[0-9A-Z]{1,4})?")
CHUNK = 1 << 20
PLACEHOLDER_LENGTH = 6  # a 7th character always goes in position 7


SevenTable = list[tuple[str, str]]


def _text(element: ET.Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _descendants(diag: ET.Element) -> int:
    return sum(1 for _ in diag.iter("diag")) - 1


class Icd10cmImporter(CodeSetImporter):
    format = "cdc-icd10cm-xml"
    title = "CDC ICD-10-CM tabular list (XML)"
    system_slug = "icd10cm"

    # --- Reading -----------------------------------------------------------------------------

    def _tree(self) -> ET.Element:
        data = self.source.data
        parser = ET.XMLParser()
        try:
            with self.progress("Reading", len(data), unit="bytes") as bar:
                for offset in range(0, len(data), CHUNK):
                    chunk = data[offset : offset + CHUNK]
                    parser.feed(chunk)
                    bar.advance(len(chunk))
                root = parser.close()
        except ET.ParseError as exc:
            line, column = exc.position
            reason = str(exc).split(":")[0]
            raise self.error(
                f"not well-formed XML at column {column + 1} ({reason}): a broken file or a "
                "wrong encoding",
                line=line,
            ) from exc
        if root.tag != ROOT:
            raise self.error(
                f"the document is <{root.tag}>, not <{ROOT}>: not an ICD-10-CM tabular file"
            )
        return root

    def line_of(self, text: str) -> int | None:
        """Where `text` first appears. ElementTree keeps no line numbers, and only a line that
        goes wrong needs one, so it is looked up then."""
        at = self.source.data.find(text.encode())
        return self.source.data.count(b"\n", 0, at) + 1 if at >= 0 else None

    def _name_line(self, name: str) -> int | None:
        return self.line_of(f"<name>{name}</name>")

    def edition_start(self, edition: str) -> datetime.date | None:
        """Fiscal years: FY2026 starts on October 1, 2025."""
        year = year_in(edition)
        return datetime.date(year - 1, 10, 1) if year else None

    def parse(self) -> None:
        root = self._tree()
        version = _text(root.find("version"))
        # Editions are fiscal years (FY2026 starts on 1 October 2025).
        self.edition = self.edition or (f"FY{version}" if version.isdigit() else version)
        year = year_in(self.edition)
        if year is None:
            raise self.error("no <version> year in the file; pass --edition", field="version")
        self.year = year
        self.effective = self.options.effective or datetime.date(self.year - 1, 10, 1)
        self.groups: list[GroupEntry] = []
        self.entries: dict[str, CodeEntry] = {}
        chapters = root.findall("chapter")
        if not chapters:
            raise self.error("no <chapter> elements: not an ICD-10-CM tabular file")
        with self.progress("Reading codes", len(chapters), unit="chapters") as bar:
            for chapter in chapters:
                self._chapter(chapter)
                bar.advance()

    def _notes(self, element: ET.Element, table: SevenTable | None = None) -> dict[str, object]:
        notes: dict[str, object] = {}
        for child in element:
            kind = NOTE_KINDS.get(child.tag)
            if kind:
                texts = [t for t in map(_text, child.iter("note")) if t]
                if texts:
                    notes.setdefault(kind, []).extend(texts)
        if table:
            notes["seventh_characters"] = [{"char": c, "meaning": m} for c, m in table]
        return notes

    def _titled(self, element: ET.Element, what: str, near: str) -> tuple[str, str, str]:
        desc = _text(element.find("desc"))
        if not desc:
            raise self.error(f"{what} without a <desc>", line=self.line_of(near), field="desc")
        match = RANGE_SUFFIX.search(desc)
        if not match:
            return desc, "", ""
        return desc[: match.start()], match.group(1), match.group(2) or match.group(1)

    def _group(self, **values: object) -> None:
        position = len(self.groups)
        values["sort_key"] = f"{values.get('code_from', '')}|{position:05d}"
        self.groups.append(GroupEntry(**values))

    def _chapter(self, chapter: ET.Element) -> None:
        number = _text(chapter.find("name"))
        if not number:
            raise self.error("a chapter without a <name>", field="name")
        title, first, last = self._titled(chapter, f"chapter {number}", f"<name>{number}</name>")
        slug = f"chapter-{int(number):02d}" if number.isdigit() else f"chapter-{number.lower()}"
        self._group(
            slug=slug,
            title=title,
            kind=CodeGroup.Kind.CHAPTER,
            code_from=first,
            code_to=last,
            notes=self._notes(chapter),
        )
        for section in chapter.findall("section"):
            self._section(section, slug)

    def _section(self, section: ET.Element, chapter_slug: str) -> None:
        ident = section.get("id", "")
        title, first, last = self._titled(section, f"section {ident}", f'id="{ident}"')
        if ident and not first:
            first, _, last = ident.partition("-")
        slug = f"{first}-{last or first}".lower()  # "b10-b10": a category may be named B10
        self._group(
            slug=slug,
            title=title,
            kind=CodeGroup.Kind.SECTION,
            parent=chapter_slug,
            code_from=first,
            code_to=last or first,
            notes=self._notes(section),
        )
        accepted = [self._category(diag, slug) for diag in section.findall("diag")]
        if not any(accepted):
            self.groups.pop()  # every category was skipped: no empty section to browse

    def _category(self, diag: ET.Element, section_slug: str) -> bool:
        raw = _text(diag.find("name"))
        if OFFICIAL_SHAPE.fullmatch(raw) and canonical_code("icd10cm", raw) is None:
            self.warn(
                f"{raw} and the {_descendants(diag)} codes under it do not fit the site's "
                "ICD-10-CM spelling (codes/normalize.py); skipped",
                line=self._name_line(raw),
                field="name",
            )
            return False
        code = self._code(diag)
        slug = code_key(code).lower()
        self._group(
            slug=slug,
            title=_text(diag.find("desc")),
            kind=CodeGroup.Kind.CATEGORY,
            parent=section_slug,
            code_from=code,
            code_to=_text(list(diag.iter("diag"))[-1].find("name")) or code,  # M54–M54.9
            notes=self._notes(diag, self._seven_table(diag, code)),
        )
        self._diag(diag, code, slug, None, "")
        return True

    def _code(self, diag: ET.Element) -> str:
        raw = _text(diag.find("name"))
        canonical = canonical_code("icd10cm", raw)
        if canonical is None:
            raise self.error(
                f"{raw!r} is not an ICD-10-CM code", line=self._name_line(raw), field="name"
            )
        if not _text(diag.find("desc")):
            raise self.error(f"{canonical} has no <desc>", line=self._name_line(raw), field="desc")
        return canonical

    def _seven_table(self, element: ET.Element, code: str) -> SevenTable:
        definition = element.find("sevenChrDef")
        if definition is None:
            return []
        table = []
        for extension in definition.iter("extension"):
            char = extension.get("char", "")
            if len(char) != 1 or not char.isalnum():
                raise self.error(
                    f"7th character {char!r} of {code} is not one letter or digit",
                    line=self.line_of(f'char="{char}"'),
                    field="extension char",
                )
            table.append((char.upper(), _text(extension)))
        return table

    def _diag(
        self,
        diag: ET.Element,
        code: str,
        category: str,
        inherited: SevenTable | None,
        parent: str,
    ) -> None:
        key = code_key(code)
        if parent and not key.startswith(parent):
            self.warn(
                f"{code} is filed under {parent}, which it does not extend",
                line=self._name_line(code),
                field="name",
            )
        own = self._seven_table(diag, code)
        table = own or inherited
        children = diag.findall("diag")
        desc = _text(diag.find("desc"))
        notes = self._notes(diag, own)
        expands = not children and bool(table)
        self._add(code, desc, notes, category, billable=not children and not expands)
        for child in children:
            self._diag(child, self._code(child), category, table, key)
        if not expands:
            return
        if len(key) > PLACEHOLDER_LENGTH:
            self.warn(
                f"{code} is already {len(key)} characters: no 7th character added",
                line=self._name_line(code),
                field="sevenChrDef",
            )
            return
        stem = key.ljust(PLACEHOLDER_LENGTH, "X")
        for char, meaning in table:
            expanded = canonical_code("icd10cm", stem + char)
            self._add(
                expanded,
                f"{desc}, {meaning}" if meaning else desc,
                {**notes, "seventh_character": {"char": char, "meaning": meaning}},
                category,
                billable=True,
            )

    def _add(self, code: str, desc: str, notes: dict, category: str, *, billable: bool) -> None:
        if code in self.entries:
            self.warn(
                f"{code} is listed twice; the later one wins",
                line=self._name_line(code),
                field="name",
            )
        self.entries[code] = CodeEntry(
            code=code,
            fields={
                "short_descriptor": shorten(desc, 200),
                "long_descriptor": desc,
                "is_billable": billable,
                "notes": notes,
                "status": Code.Status.ACTIVE,
                "end_date": None,
            },
            group=category,
        )

    # --- Writing -----------------------------------------------------------------------------

    def apply(self) -> None:
        self.sync(entries=list(self.entries.values()), groups=self.groups)
