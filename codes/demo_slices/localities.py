"""`fixtures/localities.json`: every Medicare locality with its GPCIs and counties, cut from
Addendum E (`gpci/GPCI2025.csv`, `gpci/GPCI2026.csv`) and the counties file
(`gpci/25LOCCO1.csv`) by the importers' own parsers, so the demo's locality picker and its
payments are the published figures. One of the parts `manage.py cut_demo_slice` writes.
"""

from __future__ import annotations

from pathlib import Path

from codes.importers.base import ImportOptions, SourceFile
from codes.importers.gpci import GpciImporter, LocalityImporter
from codes.importers.progress import SILENT

GPCI_FILES = ("gpci/GPCI2025.csv", "gpci/GPCI2026.csv")
COUNTIES_FILE = "gpci/25LOCCO1.csv"


def _parsed(importer: type[GpciImporter] | type[LocalityImporter], path: Path):
    parser = importer([SourceFile.read(path)], ImportOptions(), SILENT)
    parser.parse()
    return parser


def cut_localities(data_dir: Path, codes: set[str]) -> dict:
    """Every locality of the real files with its GPCIs of each year and its counties (the
    same for every demo code, so `codes` is not needed)."""
    counties = _parsed(LocalityImporter, data_dir / COUNTIES_FILE)
    localities: dict[tuple[str, str], dict[str, object]] = {}
    editions = []
    for relative in GPCI_FILES:
        gpcis = _parsed(GpciImporter, data_dir / relative)
        editions.append(f"{gpcis.edition} ({Path(relative).name})")
        for (mac, number), values in sorted(gpcis.rows.items()):
            place = localities.setdefault(
                (mac, number),
                {"mac": mac, "number": number, **counties.rows.get((mac, number), {})},
            )
            # The newest file names the locality, as the importer does.
            place.update(state=values["state"], name=values["name"])
            place.setdefault("gpcis", []).append(
                {
                    "year": gpcis.year,
                    "edition": gpcis.edition,
                    "work": str(values["work"]),
                    "pe": str(values["pe"]),
                    "mp": str(values["mp"]),
                    "notes": values["notes"],
                }
            )
    data = {
        "source": "CMS PFS Addendum E GPCIs: "
        + "; ".join(editions)
        + f"; counties from {counties.edition} ({Path(COUNTIES_FILE).name})",
        "localities": list(localities.values()),
    }
    return data
