"""`fixtures/rvu2025.json`: the January 2025 PFS lines (`pfs/PPRRVU25_JAN1.csv`) of the demo
codes, cut by the PFS importer's parser, without the AMA's descriptors.

    from codes.demo_slices.fee_schedule import cut_fee_schedule
    cut_fee_schedule(data_dir=Path("../shared/data"), out=Path("fixtures/rvu2025.json"))
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from codes.importers.base import ImportOptions, SourceFile
from codes.importers.pfs import PfsImporter
from codes.importers.progress import SILENT
from codes.normalize import code_key

PFS_FILE = "pfs/PPRRVU25_JAN1.csv"
DEMO_CODE_FILES = ("cpt.json", "hcpcs.json")


def demo_codes(fixtures: Path | None = None) -> set[str]:
    """The codes the demo content describes (their keys)."""
    folder = fixtures or Path(settings.BASE_DIR) / "fixtures"
    codes = set()
    for name in DEMO_CODE_FILES:
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        codes.update(code_key(item["code"]) for item in data["codes"])
    return codes


def _plain(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


def cut_fee_schedule(
    *, data_dir: Path, out: Path, codes: set[str] | None = None, relative: str = PFS_FILE
) -> int:
    """Write the PFS lines of `codes` (the demo codes by default) to `out`; returns how many."""
    wanted = demo_codes() if codes is None else codes
    parser = PfsImporter([SourceFile.read(data_dir / relative)], ImportOptions(), SILENT)
    parser.parse()
    conversion_factors = {values["conversion_factor"] for values in parser.lines.values()}
    if len(conversion_factors) != 1:
        raise ValueError(f"{relative}: more than one conversion factor ({conversion_factors})")
    lines = [
        {
            "code": code,
            "modifier": modifier,
            **{
                name: _plain(value)
                for name, value in values.items()
                if name not in {"description", "conversion_factor"}
            },
        }
        for (code, modifier), values in sorted(parser.lines.items())
        if code in wanted
    ]
    data = {
        "source": f"CMS Medicare Physician Fee Schedule relative value file {Path(relative).stem} "
        f"({parser.edition} release)",
        "edition": parser.edition,
        "year": parser.year,
        "conversion_factor": str(conversion_factors.pop()),
        "lines": lines,
    }
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(lines)
