"""What every importer shares: reading a file safely, errors that name the place, warnings,
counts, and the run options.

Files are read as publishers ship them: gzip-compressed or inside a zip archive, in UTF-8 or
Windows-1252 (detected per file), with notices, titles and footnotes around the records
(skipped, and counted in the summary). Most importers read their whole file into memory
first (a few megabytes), so that a broken line anywhere is found before anything is written;
the NCCI edits, 160 MB of text, are streamed into a scratch table instead.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import functools
import gzip
import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.core.management.base import CommandError
from django.db import models

from codes.importers.progress import ProgressFactory
from codes.models import Code, ImportRun

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
    encoding: str | None = None  # None: UTF-8 when the bytes allow it, else Windows-1252
    record_changes: bool = True  # False: no change feed entries (loading past editions)


# CMS text files are Windows-1252; everything newer is UTF-8. A file that is valid UTF-8 is
# read as UTF-8 (plain ASCII is both), anything else as Windows-1252.
DETECTED_ENCODINGS = ("utf-8", "cp1252")
ENCODING_NAMES = {"utf-8": "UTF-8", "cp1252": "Windows-1252"}
READ_CHUNK = 1 << 20
TEXT_MEMBER_SUFFIXES = (".txt", ".csv", ".tsv")


@dataclass
class SourceFile:
    """One file as published: plain, gzip-compressed (`.gz`) or one member of a CMS `.zip`
    archive. Small files are read whole (`data`, `text()`); large ones are streamed
    (`stream_lines()`). Text is strictly decoded: a bad byte or a NUL names its line."""

    path: Path
    member: str | None = None  # the member of a zip archive
    encoding: str | None = field(default=None, init=False)  # the one used, once decoded

    @classmethod
    def read(cls, path: Path) -> SourceFile:
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        if not path.is_file():
            raise CommandError(f"{path}: not a file")
        return cls(path=path)

    @classmethod
    def expand(
        cls, path: Path, *, suffixes: tuple[str, ...] = TEXT_MEMBER_SUFFIXES
    ) -> list[SourceFile]:
        """The file itself, or for a zip archive its members with one of `suffixes` (CMS
        archives also hold PDFs, spreadsheets and read-me files)."""
        source = cls.read(path)
        if path.suffix.lower() != ".zip":
            return [source]
        try:
            with zipfile.ZipFile(path) as archive:
                names = [info.filename for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImportFileError(path.name, f"not a readable zip archive ({exc})") from exc
        members = [n for n in names if n.lower().endswith(suffixes)]
        if not members:
            raise ImportFileError(
                path.name,
                f"no {' or '.join(suffixes)} file in the archive (it holds: "
                f"{', '.join(names) or 'nothing'})",
            )
        return [cls(path=path, member=name) for name in sorted(members)]

    @property
    def name(self) -> str:
        if self.member:
            return f"{self.path.name}:{self.member.rsplit('/', 1)[-1]}"
        return self.path.name

    @property
    def plain_name(self) -> str:
        """The name of the text inside: the member, or the file without its `.gz`."""
        name = self.member.rsplit("/", 1)[-1] if self.member else self.path.name
        return name[:-3] if name.lower().endswith(".gz") else name

    def open(self) -> IO[bytes]:
        """The bytes of the text, decompressed as they are read."""
        try:
            if self.member:
                archive = zipfile.ZipFile(self.path)
                return _ClosingMember(archive, archive.open(self.member))
            if self.path.suffix.lower() == ".gz":
                return gzip.open(self.path, "rb")
            return self.path.open("rb")
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImportFileError(self.name, f"cannot be read ({exc})") from exc

    @functools.cached_property
    def data(self) -> bytes:
        try:
            with self.open() as stream:
                return stream.read()
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise ImportFileError(self.name, f"a broken compressed file ({exc})") from exc

    @functools.cached_property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as stream:
            while chunk := stream.read(READ_CHUNK):
                digest.update(chunk)
        if self.member:
            digest.update(self.member.encode())
        return digest.hexdigest()

    def detect_encoding(self, encoding: str | None = None) -> str:
        """`encoding` when given (checked to exist), else UTF-8 when every byte of the file
        is valid UTF-8, else Windows-1252. The file is scanned as a stream, so a gigabyte
        costs no memory."""
        if encoding:
            try:
                return codecs.lookup(encoding).name
            except LookupError as exc:
                raise CommandError(f"Unknown encoding {encoding!r}") from exc
        if self.encoding:
            return self.encoding
        if "data" in self.__dict__:
            try:
                self.data.decode("utf-8")
            except UnicodeDecodeError:
                return "cp1252"
            return "utf-8"
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            with self.open() as stream:
                while chunk := stream.read(READ_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
        except (OSError, EOFError, zlib.error) as exc:
            raise ImportFileError(self.name, f"a broken compressed file ({exc})") from exc
        return "utf-8"

    @property
    def encoding_name(self) -> str:
        return ENCODING_NAMES.get(self.encoding or "", self.encoding or "")

    def text(self, encoding: str | None = None) -> str:
        """The whole file decoded; a bad byte or a NUL is an error naming its line and column."""
        encoding = self.detect_encoding(encoding)
        data = self.data
        if codecs.lookup(encoding).name == "utf-8" and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            line, column = _line_and_column(data, exc.start)
            raise ImportFileError(
                self.name,
                f"byte 0x{data[exc.start]:02x} at column {column} is not valid {encoding} "
                "(pass --encoding if the file uses another one)",
                line=line,
            ) from exc
        self.encoding = encoding
        nul = text.find("\0")
        if nul != -1:
            line, column = _line_and_column(text, nul)
            raise ImportFileError(
                self.name, f"NUL character at column {column}: not a text file", line=line
            )
        return text

    def lines(self, encoding: str | None = None) -> list[str]:
        """Lines without their CR/LF endings."""
        return self.text(encoding).splitlines()

    def stream_lines(self, encoding: str | None = None) -> Iterator[tuple[int, str]]:
        """(line number, line without its ending) read as a stream, for files too large to
        hold; the same errors as `text()`, found as the reading gets there."""
        encoding = self.detect_encoding(encoding)
        self.encoding = encoding
        decode = codecs.getdecoder(encoding)
        number = 0
        try:
            with self.open() as stream:
                for raw in stream:
                    number += 1
                    if number == 1 and raw.startswith(b"\xef\xbb\xbf") and encoding == "utf-8":
                        raw = raw[3:]
                    try:
                        line = decode(raw)[0]
                    except UnicodeDecodeError as exc:
                        raise ImportFileError(
                            self.name,
                            f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1} is not valid "
                            f"{encoding} (pass --encoding if the file uses another one)",
                            line=number,
                        ) from exc
                    if "\0" in line:
                        raise ImportFileError(
                            self.name,
                            f"NUL character at column {line.index(chr(0)) + 1}: not a text file",
                            line=number,
                        )
                    yield number, line.rstrip("\r\n")
        except (OSError, EOFError, zlib.error) as exc:
            raise ImportFileError(
                self.name, f"a broken compressed file ({exc})", line=number or None
            ) from exc


class _ClosingMember(io.BufferedReader):
    """A zip member that closes its archive with it."""

    def __init__(self, archive: zipfile.ZipFile, member: IO[bytes]) -> None:
        super().__init__(member)  # type: ignore[arg-type]
        self._archive = archive

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._archive.close()


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
    member_suffixes: tuple[str, ...] = TEXT_MEMBER_SUFFIXES  # what to read in a zip archive

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
        # Lines that are not records (notices, titles, headings, footnotes), by kind.
        self.skipped: dict[str, int] = {}
        # This run's record, made when the writing starts (none on a dry run).
        self.run: ImportRun | None = None

    @classmethod
    def open_sources(cls, paths: list[Path]) -> list[SourceFile]:
        """The sources of one run: each file, or the members of a zip archive that are in
        this format's layout."""
        sources: list[SourceFile] = []
        for path in paths:
            members = SourceFile.expand(path, suffixes=cls.member_suffixes)
            if len(members) > 1 or members[0].member:
                fitting = [m for m in members if cls.fits(m)]
                if not fitting:
                    raise ImportFileError(
                        path.name,
                        f"no member of the archive is a {cls.title} file (it holds: "
                        f"{', '.join(m.member or '' for m in members)})",
                    )
                members = fitting
            sources.extend(members)
        return sources

    @classmethod
    def fits(cls, source: SourceFile) -> bool:
        """Whether an archive member is in this format's layout (by default: any text)."""
        return True

    @property
    def feed_run(self) -> ImportRun | None:
        """The run that per-code changes are recorded under, or None when they are not
        recorded (a dry run, or --no-change-feed)."""
        return self.run if self.options.record_changes else None

    def earlier_runs(self) -> models.QuerySet[ImportRun]:
        """Runs of this format before this one."""
        runs = ImportRun.objects.filter(format=self.format)
        return runs.exclude(pk=self.run.pk) if self.run else runs

    def skip(self, kind: str, count: int = 1) -> None:
        """Count lines passed over because they are not records ("preamble lines")."""
        if count:
            self.skipped[kind] = self.skipped.get(kind, 0) + count

    @property
    def encodings(self) -> str:
        """How the files were decoded, for the summary ("Windows-1252")."""
        return ", ".join(dict.fromkeys(s.encoding_name for s in self.sources if s.encoding))

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
            digest.update(source.sha256.encode())
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
        blank = 0
        with self.progress("Reading", len(rows), unit="rows") as bar:
            for number, cells in rows:
                bar.advance()
                if is_end_marker(cells):
                    blank += 1
                else:
                    handle(number, cells)
        self.skip("blank lines", blank)

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
