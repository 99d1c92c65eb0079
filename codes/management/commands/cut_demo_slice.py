"""Cut the demo's facts from the real published files: the NCCI edits, MUE values and fee
schedule lines of the codes the demo describes, each with its edition, written into
fixtures/ so that `load_demo` shows published rows and nothing written from memory.

    manage.py cut_demo_slice --data ../shared/data

Each part reads its file with the importer of its format (the same checks, the same column
meanings). To add a part (a newer PFS release, GPCIs), add an entry to PARTS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from codes.demo import FIXTURES, SYSTEM_FILES
from codes.importers.base import ImportOptions, SourceFile
from codes.importers.mue import MueImporter
from codes.importers.ncci import NcciImporter
from codes.importers.pfs import PfsImporter
from codes.importers.progress import SILENT
from codes.models import EditEdition

# The image guidance reported with the demo's spinal injections: their edits with those codes
# are among the ones a coder looks for, so the slice carries these codes too (from the fee
# schedule file, with its short descriptors and RVUs).
PARTNERS = ("76942", "77002", "77003", "77012")


@dataclass(frozen=True)
class Part:
    fixture: str  # file in fixtures/
    source: str  # path inside the data folder
    cut: Callable[[Path, set[str]], dict]


def demo_codes(directory: Path = FIXTURES) -> set[str]:
    """The CPT and HCPCS codes the demo describes (the ICD-10-CM ones have no edits)."""
    codes: set[str] = set()
    for name in SYSTEM_FILES:
        data = json.loads((directory / name).read_text(encoding="utf-8"))
        if data["system"]["slug"] in ("cpt", "hcpcs"):
            codes.update(item["code"] for item in data["codes"])
    return codes


def cut_ncci(path: Path, codes: set[str]) -> dict:
    """Every line of the file pairing two codes of the slice, one of them a demo code (a page
    names no code the demo lacks), as the file gives it."""
    known = codes | set(PARTNERS)
    importer = NcciImporter([SourceFile.read(path)], ImportOptions(), SILENT)
    importer.parse()
    rows = []
    source = importer.source
    for number, line in source.stream_lines():
        cells = line.split("\t")
        if len(cells) < 7 or cells[0] not in known or cells[1] not in known:
            continue
        if cells[0] not in codes and cells[1] not in codes:
            continue
        (column1, column2), _, _ = importer.check_line(0, number, cells, source)
        rows.append(
            {
                "column1": column1,
                "column2": column2,
                "prior_1996": cells[2].strip() == "*",
                "effective": _iso(cells[3]),
                "deleted": None if cells[4].strip() == "*" else _iso(cells[4]),
                "modifier_indicator": cells[5].strip(),
                "rationale": cells[6].strip(),
                "line": number,
            }
        )
    return {
        "source": f"CMS NCCI PTP edits, practitioner services ({path.name})",
        "edition": _edition(
            EditEdition.Kind.NCCI_PTP, importer.setting, importer.version, importer.effective
        ),
        "rows": rows,
    }


def cut_mue(path: Path, codes: set[str]) -> dict:
    importer = MueImporter([SourceFile.read(path)], ImportOptions(), SILENT)
    importer.parse()
    rows = [
        {"code": code, **values}
        for code, values in sorted(importer.values.items())
        if code in codes
    ]
    return {
        "source": f"CMS MUE values, {importer.service} services ({path.name})",
        "edition": _edition(
            EditEdition.Kind.MUE, importer.service, importer.version, importer.effective
        ),
        "rows": rows,
    }


def cut_rvu(path: Path, codes: set[str]) -> dict:
    """The demo codes' lines of a PFS relative value file, in the columns the importer reads
    (descriptors left out: they are the AMA's)."""
    importer = PfsImporter([SourceFile.read(path)], ImportOptions(), SILENT)
    importer.parse()
    lines = []
    factors = set()
    partners: dict[str, str] = {}
    for (code, modifier), values in sorted(importer.lines.items()):
        if code in PARTNERS and code not in codes:
            partners.setdefault(code, values["description"])
        elif code not in codes:
            continue
        factors.add(values["conversion_factor"])
        line = {"code": code, "modifier": modifier}
        for name, value in values.items():
            if name in ("description", "conversion_factor"):
                continue
            line[name] = str(value) if isinstance(value, Decimal) else value
        lines.append(line)
    if len(factors) != 1:
        raise CommandError(f"{path.name}: expected one conversion factor, found {factors}")
    return {
        "source": f"CMS Medicare Physician Fee Schedule relative value file {path.stem} "
        f"({importer.edition} release)",
        "edition": importer.edition,
        "year": importer.year,
        "conversion_factor": str(factors.pop()),
        # Codes the demo does not describe, known from this file by its short descriptors.
        "codes": [{"code": code, "short": short} for code, short in sorted(partners.items())],
        "lines": lines,
    }


PARTS = (
    Part("ncci.json", "ncci/ptp-practitioner-2024q2-v301r0.tsv.gz", cut_ncci),
    Part("mue.json", "mue/mue-practitioner-2024q2.csv", cut_mue),
    Part("rvu.json", "pfs/PPRRVU23_JAN.csv", cut_rvu),
)


def _iso(text: str) -> str | None:
    text = text.strip()
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if text else None


def _edition(kind: str, setting: str, version: str, effective) -> dict:
    return {
        "kind": kind,
        "setting": setting,
        "version": version,
        "effective": effective.isoformat(),
    }


class Command(BaseCommand):
    help = (
        "Cut the demo's NCCI edits, MUE values and PFS lines from the real published files "
        "into fixtures/ (" + ", ".join(part.fixture for part in PARTS) + ")."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data", type=Path, required=True, help="the folder of real files (../shared/data)"
        )
        parser.add_argument(
            "--out", type=Path, default=FIXTURES, help="where to write (default: fixtures/)"
        )

    def handle(self, *args, **options) -> None:
        folder: Path = options["data"]
        if not folder.is_dir():
            raise CommandError(f"{folder}: no such folder")
        codes = demo_codes()
        out: Path = options["out"]
        for part in PARTS:
            path = folder / part.source
            if not path.exists():
                raise CommandError(f"{path}: no such file")
            data = part.cut(path, codes)
            target = out / part.fixture
            target.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
            count = len(data.get("rows", data.get("lines", [])))
            self.stdout.write(f"{target.name}: {count} rows from {path.name}")
