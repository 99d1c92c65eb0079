import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from codes.importers.base import ImportOptions
from codes.importers.progress import ProgressFactory
from codes.importers.runner import FORMATS, ImportOutcome, import_bundle

WARNINGS_SHOWN = 25


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--effective {value!r} is not a date (YYYY-MM-DD)") from exc


class _Unstyled:
    """stderr as the progress bar needs it: Django's wrapper would colour each redraw as an
    error and end it with a newline, so the bar could not redraw in place."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, style_func=lambda plain: plain, ending="")

    def flush(self) -> None:
        self.wrapper.flush()

    def isatty(self) -> bool:
        return self.wrapper.isatty()


class Command(BaseCommand):
    help = (
        "Import official code-set files: "
        + ", ".join(f"{name} ({importer.title})" for name, importer in FORMATS.items())
        + ". Each file is imported in one transaction; importing it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("format", choices=sorted(FORMATS), help="the file format")
        parser.add_argument(
            "files",
            nargs="+",
            type=Path,
            metavar="FILE",
            help="files to import, plain, .gz or CMS .zip archives (ama-cpt: the data files or "
            "their folder)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="report what would change without writing anything",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="stop at the first warning instead of reporting them at the end",
        )
        parser.add_argument(
            "--edition",
            help="edition or release, e.g. 2026 or 2023-JAN, when the file name does not tell it",
        )
        parser.add_argument(
            "--effective", type=str, help="date the edition takes effect (YYYY-MM-DD)"
        )
        parser.add_argument(
            "--setting",
            choices=["practitioner", "hospital", "dme"],
            help="NCCI and MUE files: whose claims the edits apply to",
        )
        parser.add_argument(
            "--no-change-feed",
            action="store_true",
            help="record no per-code changes for the change feed (loading past editions)",
        )
        parser.add_argument(
            "--encoding",
            help="text encoding of the files (default: UTF-8 when the file is valid UTF-8, "
            "else Windows-1252, as CMS text files are)",
        )

    def handle(self, *args, **options) -> None:
        importer = FORMATS[options["format"]]
        settings = ImportOptions(
            dry_run=options["dry_run"],
            strict=options["strict"],
            edition=options["edition"],
            effective=_date(options["effective"]) if options["effective"] else None,
            setting=options["setting"],
            encoding=options["encoding"],
            record_changes=not options["no_change_feed"],
        )
        progress = ProgressFactory(_Unstyled(self.stderr) if options["verbosity"] > 0 else None)
        if settings.dry_run:
            self.stdout.write("Dry run: nothing will be written.")
        bundles = importer.bundles(options["files"])
        for number, paths in enumerate(bundles, start=1):
            try:
                outcome = import_bundle(options["format"], paths, settings, progress)
            except CommandError as exc:
                done = f" ({number - 1} earlier file(s) were imported)" if number > 1 else ""
                raise CommandError(f"{exc}\nNothing from this file was written{done}.") from exc
            self._report(outcome)

    def _report(self, outcome: ImportOutcome) -> None:
        importer = outcome.importer
        edition = f", edition {importer.edition}" if importer.edition else ""
        self.stdout.write(f"{importer.label} — {importer.title}{edition}")
        if importer.encodings and importer.encodings != "UTF-8":
            self.stdout.write(f"  read as {importer.encodings}")
        if importer.skipped:
            skipped = ", ".join(f"{n:,} {kind}" for kind, n in importer.skipped.items())
            self.stdout.write(f"  skipped (not records): {skipped}")
        verb = "would be" if importer.options.dry_run else "were"
        for name, counts in importer.counts.items():
            if name == "history entries":
                self.stdout.write(f"  {name}: {counts.added:,} {verb} added")
            else:
                self.stdout.write(f"  {name}: {counts}")
        warnings = importer.warnings
        if warnings:
            self.stdout.write(self.style.WARNING(f"  {len(warnings):,} warning(s):"))
            for warning in warnings[:WARNINGS_SHOWN]:
                self.stdout.write(f"    {warning}")
            if len(warnings) > WARNINGS_SHOWN:
                self.stdout.write(
                    f"    … and {len(warnings) - WARNINGS_SHOWN:,} more (all are kept on the "
                    "import run in admin)"
                )
        done = "Checked" if importer.options.dry_run else "Imported"
        self.stdout.write(self.style.SUCCESS(f"  {done} in {outcome.seconds:.1f} s."))
