"""What every importer shares: reading a file safely, errors that name the place, warnings,
counts, and the run options.

An importer reads its whole file into memory first (the largest official file is a few
megabytes), so that a broken line anywhere is found before anything is written.
"""

from __future__ import annotations

import csv
import datetime
import functools
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import CommandError
from django.db import models

from codes.importers.progress import ProgressFactory
from codes.models import Code

MAX_WARNINGS_KEPT = 1000  # an ImportRun keeps this many; the count is always exact


class ImportFileError(CommandError):
    """A file that cannot be imported, with the place it went wrong."""

    def __init__(
        self, name: str, message: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.name, self.line, self.field, self.reason = name, line, field, message
        super().__init__(_place(name, line, field) + message)


def _place(name: str, line: int | None, field: str | None) -> str:
    parts = [name]
    if line is not None:
        parts.append(f"line {line}")
    if field:
        parts.append(f"field {field}")
    return ", ".join(parts) + ": "


@dataclass(frozen=True)
class ImportWarning:
    name: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        return _place(self.name, self.line, self.field) + self.message


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.deleted

    def __str__(self) -> str:
        return (
            f"{self.added:,} added, {self.updated:,} updated, {self.deleted:,} deleted, "
            f"{self.unchanged:,} unchanged"
        )


@dataclass
class ImportOptions:
    dry_run: bool = False
    strict: bool = False
    edition: str | None = None
    effective: datetime.date | None = None
    setting: str | None = None
    encoding: str = "utf-8"


@dataclass
class SourceFile:
    """One file as bytes, with its checksum; text comes out strictly decoded."""

    path: Path
    data: bytes = field(repr=False)

    @classmethod
    def read(cls, path: Path) -> SourceFile:
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        if not path.is_file():
            raise CommandError(f"{path}: not a file")
        return cls(path=path, data=path.read_bytes())

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def text(self, encoding: str = "utf-8") -> str:
        """The whole file decoded; a bad byte or a NUL is an error naming its line and column."""
        data = self.data
        if encoding.replace("-", "").lower() == "utf8" and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode(encoding)
        except LookupError as exc:
            raise CommandError(f"Unknown encoding {encoding!r}") from exc
        except UnicodeDecodeError as exc:
            line, column = _line_and_column(data, exc.start)
            raise ImportFileError(
                self.name,
                f"byte 0x{data[exc.start]:02x} at column {column} is not valid {encoding} "
                "(pass --encoding if the file uses another one)",
                line=line,
            ) from exc
        nul = text.find("\0")
        if nul != -1:
            line, column = _line_and_column(text, nul)
            raise ImportFileError(
                self.name, f"NUL character at column {column}: not a text file", line=line
            )
        return text

    def lines(self, encoding: str = "utf-8") -> list[str]:
        """Lines without their CR/LF endings."""
        return self.text(encoding).splitlines()


def _line_and_column(data: bytes | str, offset: int) -> tuple[int, int]:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    line_start = data.rfind(newline, 0, offset) + 1
    return data.count(newline, 0, offset) + 1, offset - line_start + 1


def csv_records(
    source: SourceFile, text: str, *, delimiter: str = ","
) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for each CSV record; a broken record is an error naming its line."""
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, strict=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(
                source.name, f"not valid CSV ({exc})", line=reader.line_num
            ) from exc
        yield reader.line_num, cells


def is_end_marker(cells: list[str]) -> bool:
    """Blank records, and the DOS end-of-file mark (Ctrl-Z) some CMS files still carry."""
    return not "".join(cells).strip().strip("\x1a").strip()


_DATE_FORMATS = {
    "YYYYMMDD": re.compile(r"(\d{4})(\d{2})(\d{2})"),
    "MM/DD/YYYY": re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"),
}


@functools.lru_cache(maxsize=4096)  # official files repeat a few hundred dates many times
def parse_date(value: str, *, fmt: str = "YYYYMMDD") -> datetime.date:
    """A date in one of the layouts' formats; ValueError with the expected format otherwise."""
    match = _DATE_FORMATS[fmt].fullmatch(value.strip())
    if not match:
        raise ValueError(f"{value.strip()!r} is not a date ({fmt})")
    if fmt == "YYYYMMDD":
        year, month, day = (int(part) for part in match.groups())
    else:
        month, day, year = (int(part) for part in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{value.strip()!r} is not a real date ({exc})") from exc


# A HCPCS or CPT code as the CMS edit files write it (five letters or digits).
CODE_CELL = re.compile(r"[0-9A-Z]{5}")


def hinted(text: str, hints: dict[str, tuple[str, ...]]) -> str | None:
    """The first key whose hint words appear in `text` (a file name or a column title)."""
    upper = text.upper()
    return next((key for key, words in hints.items() if any(w in upper for w in words)), None)


def year_in(text: str) -> int | None:
    """The first plausible year (1980–2099) in a file name or title."""
    match = re.search(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)", text)
    return int(match.group(1)) if match else None


def shorten(text: str, limit: int) -> str:
    """Text cut at a word boundary to fit a column, marked with an ellipsis when cut."""
    if len(text) <= limit and "  " not in text and text == text.strip() and "\n" not in text:
        return text
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;") + "…"


class Importer:
    """One format. Subclasses read their file(s) in `parse()` (errors and warnings only, no
    database work) and bring the database in line in `apply()`, which counts what changed
    and, on a dry run, stops short of writing."""

    format: str = ""
    title: str = ""
    primary: str = "codes"  # the counts an ImportRun records
    tables: tuple[type[models.Model], ...] = (Code,)  # vacuumed after a large import

    def __init__(
        self, sources: list[SourceFile], options: ImportOptions, progress: ProgressFactory
    ) -> None:
        self.sources = sources
        self.source = sources[0]
        self.options = options
        self.progress = progress
        self.warnings: list[ImportWarning] = []
        self.counts: dict[str, Counts] = {}
        self.edition = options.edition or ""

    @classmethod
    def bundles(cls, paths: list[Path]) -> list[list[Path]]:
        """How the command's FILE arguments group into runs: one file each by default."""
        return [[path] for path in paths]

    @property
    def label(self) -> str:
        return " + ".join(source.name for source in self.sources)

    @property
    def sha256(self) -> str:
        if len(self.sources) == 1:
            return self.source.sha256
        digest = hashlib.sha256()
        for source in self.sources:
            digest.update(source.data)
        return digest.hexdigest()

    def text_lines(self, source: SourceFile | None = None) -> list[str]:
        return (source or self.source).lines(self.options.encoding)

    def error(
        self,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        source: SourceFile | None = None,
    ) -> ImportFileError:
        return ImportFileError((source or self.source).name, message, line=line, field=field)

    def warn(
        self,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        source: SourceFile | None = None,
    ) -> None:
        name = (source or self.source).name
        if self.options.strict:
            raise ImportFileError(
                name, f"{message} (--strict stops at warnings)", line=line, field=field
            )
        self.warnings.append(ImportWarning(name, line, field, message))

    def read_rows(
        self, rows: list[tuple[int, list[str]]], handle: Callable[[int, list[str]], None]
    ) -> None:
        """Hand each CSV record after the header to `handle`, skipping blank and end marks."""
        with self.progress("Reading", len(rows), unit="rows") as bar:
            for number, cells in rows:
                bar.advance()
                if not is_end_marker(cells):
                    handle(number, cells)

    def fit(self, text: str, limit: int, *, line: int, field: str) -> str:
        """Text for a column of `limit` characters; cutting it is worth a warning."""
        text = " ".join(text.split())
        if len(text) > limit:
            self.warn(f"longer than {limit} characters; shortened", line=line, field=field)
            text = shorten(text, limit)
        return text

    def parse(self) -> None:
        raise NotImplementedError

    def apply(self) -> None:
        raise NotImplementedError
