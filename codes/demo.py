"""Loading the demo content in `fixtures/`: code systems, trees and codes we describe ourselves,
and the knowledge around the featured codes.

Loading only adds what is missing: running it twice changes nothing, and text an editor has
changed in admin since is never overwritten.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from codes.models import (
    Code,
    CodeGroup,
    CodeHistory,
    CodeModifier,
    CodeSystem,
    CoverageReference,
    CrosswalkLink,
    EditEdition,
    Gpci,
    Guideline,
    Locality,
    Modifier,
    MueValue,
    NcciEdit,
    RelatedCode,
    RvuLine,
    SearchSynonym,
)
from codes.normalize import canonical_code, code_key
from codes.page_cache import data_changes_batched

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SYSTEM_FILES = ("cpt.json", "hcpcs.json", "icd10cm.json")
RVU_FILES = ("rvu.json", "rvu2025.json")  # one PFS release each


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, label: str, created: bool) -> None:
        if created:
            self.created[label] = self.created.get(label, 0) + 1

    def __str__(self) -> str:
        if not self.created:
            return "Demo content already loaded: nothing to add."
        return "Added " + ", ".join(f"{n} {label}" for label, n in sorted(self.created.items()))


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def load_system_file(path: Path, report: LoadReport) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = data["system"]
    system, created = CodeSystem.objects.get_or_create(
        slug=meta["slug"],
        defaults={
            "name": meta["name"],
            "short_name": meta["short_name"],
            "publisher": meta["publisher"],
            "edition": meta.get("edition", ""),
            "copyright": meta["copyright"],
            "description": meta.get("description", ""),
            "sort": {"cpt": 1, "hcpcs": 2, "icd10cm": 3}.get(meta["slug"], 9),
        },
    )
    report.add("code systems", created)
    groups: dict[str, CodeGroup] = {}
    for position, item in enumerate(data["groups"]):
        parent = groups[item["parent"]] if item.get("parent") else None
        group, created = CodeGroup.objects.get_or_create(
            system=system,
            slug=slugify(item["key"])[:120],
            defaults={
                "parent": parent,
                "kind": item["kind"],
                "title": item["title"],
                "code_from": item.get("code_from") or "",
                "code_to": item.get("code_to") or "",
                "sort_key": f"{item.get('code_from') or ''}|{position:05d}",
                "depth": 0 if parent is None else parent.depth + 1,
            },
        )
        groups[item["key"]] = group
        report.add("code groups", created)
    codes: dict[str, Code] = {}
    for item in data["codes"]:
        canonical = canonical_code(system.slug, item["code"])
        if canonical is None:
            raise ValueError(f"{path.name}: {item['code']!r} is not a valid {system.slug} code")
        code, created = Code.objects.get_or_create(
            system=system,
            key=code_key(canonical),
            defaults={
                "code": canonical,
                "short_descriptor": item["short"],
                "medium_descriptor": item.get("medium") or "",
                "long_descriptor": item.get("long") or "",
                "plain_language": item.get("plain") or "",
                "status": item.get("status", "active"),
                "effective_date": _date(item.get("effective")),
                "end_date": _date(item.get("end")),
                "group": groups.get(item.get("group")),
                "is_addon": bool(item.get("addon")),
            },
        )
        codes[canonical] = code
        report.add(f"{system.short_name} codes", created)
    for item in data["codes"]:
        if item.get("primary"):
            code = codes[canonical_code(system.slug, item["code"])]
            if not code.primary_codes.exists():
                code.primary_codes.set([codes[p] for p in item["primary"]])


def _cpt(code: str) -> Code:
    return Code.objects.get(system__slug="cpt", key=code_key(code))


def load_knowledge(path: Path, report: LoadReport) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    modifiers = {}
    for item in data["modifiers"]:
        modifier, created = Modifier.objects.get_or_create(
            code=item["code"].upper(),
            defaults={
                "short_descriptor": item["short"],
                "long_descriptor": item.get("long", ""),
                "note": item.get("note", ""),
            },
        )
        modifiers[modifier.code] = modifier
        report.add("modifiers", created)
    for item in data["guidelines"]:
        if item.get("code"):
            target = {"code": _cpt(item["code"])}
        else:
            start = item["range"].split("-")[0]
            target = {"group": _cpt(start).group}
        _, created = Guideline.objects.get_or_create(
            **target, title=item["title"], defaults={"body": item["body"], "sort": item["sort"]}
        )
        report.add("guidelines", created)
    for item in data["code_modifiers"]:
        _, created = CodeModifier.objects.get_or_create(
            code=_cpt(item["code"]),
            modifier=modifiers[item["modifier"].upper()],
            defaults={"note": item.get("note", "")},
        )
        report.add("code modifiers", created)
    icd = CodeSystem.objects.get(slug="icd10cm")
    for item in data["crosswalk"]:
        canonical = canonical_code("icd10cm", item["icd"])
        diagnosis, created = Code.objects.get_or_create(
            system=icd,
            key=code_key(canonical),
            defaults={
                "code": canonical,
                "short_descriptor": data["icd_titles"][item["icd"]][:200],
                "long_descriptor": data["icd_titles"][item["icd"]],
            },
        )
        report.add("ICD-10-CM codes", created)
        _, created = CrosswalkLink.objects.get_or_create(
            code=_cpt(item["code"]),
            diagnosis=diagnosis,
            defaults={"group_label": item.get("group", ""), "note": item.get("note", "")},
        )
        report.add("crosswalk links", created)
    for item in data["coverage"]:
        _, created = CoverageReference.objects.get_or_create(
            code=_cpt(item["code"]),
            kind=item["kind"],
            number=item["number"],
            defaults={
                "title": item["title"],
                "contractor": item.get("contractor", ""),
                "effective_date": _date(item.get("effective")),
                "end_date": _date(item.get("end")),
                "url": item.get("url", ""),
                "note": item.get("note", ""),
            },
        )
        report.add("coverage references", created)
    for item in data["history"]:
        _, created = CodeHistory.objects.get_or_create(
            code=_cpt(item["code"]),
            year=item["year"],
            action=item["action"],
            source="editor",
            defaults={"note": item.get("note", ""), "date": _date(item.get("date"))},
        )
        report.add("history entries", created)
    for item in data["see_also"]:
        related = Code.objects.filter(key=code_key(item["related"])).first()
        if related is None:
            continue
        _, created = RelatedCode.objects.get_or_create(
            code=_cpt(item["code"]), related=related, defaults={"note": item.get("note", "")}
        )
        report.add("see-also links", created)
    for item in data["synonyms"]:
        _, created = SearchSynonym.objects.get_or_create(
            term=item["term"].strip().lower(), defaults={"expansion": item["expansion"]}
        )
        report.add("search synonyms", created)
    for item in data.get("rvu", []):
        _, created = RvuLine.objects.get_or_create(
            code=item["code"],
            modifier=item.get("modifier", ""),
            edition=item["edition"],
            defaults={
                key: Decimal(str(value)) if isinstance(value, float) else value
                for key, value in item.items()
                if key not in {"code", "modifier", "edition"}
            },
        )
        report.add("RVU lines", created)


def load_edition(meta: dict) -> EditEdition:
    edition, _ = EditEdition.objects.get_or_create(
        kind=meta["kind"],
        setting=meta["setting"],
        version=meta["version"],
        defaults={"effective_date": _date(meta["effective"])},
    )
    return edition


def load_ncci_file(path: Path, report: LoadReport) -> None:
    """NCCI edits from `ncci.json`: lines cut from one CMS release by `cut_demo_slice`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    edition = load_edition(data["edition"])
    for item in data["rows"]:
        _, created = NcciEdit.objects.get_or_create(
            edition=edition,
            setting=edition.setting,
            column1=item["column1"],
            column2=item["column2"],
            effective_date=_date(item["effective"]),
            deletion_date=_date(item["deleted"]),
            defaults={
                "prior_1996": item["prior_1996"],
                "modifier_indicator": item["modifier_indicator"],
                "rationale": item["rationale"],
            },
        )
        report.add("NCCI edits", created)


def load_mue_file(path: Path, report: LoadReport) -> None:
    """MUE values from `mue.json`: rows cut from one CMS release by `cut_demo_slice`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    edition = load_edition(data["edition"])
    for item in data["rows"]:
        _, created = MueValue.objects.get_or_create(
            code=item["code"],
            service=edition.setting,
            effective_date=edition.effective_date,
            defaults={
                "edition": edition,
                "value": item["value"],
                "adjudication": item["adjudication"],
                "rationale": item["rationale"],
            },
        )
        report.add("MUE values", created)


def load_rvu_file(path: Path, report: LoadReport) -> None:
    """Fee schedule lines from `rvu.json` or `rvu2025.json`: facts copied from one CMS PFS
    relative value file release (named at the top of the file), one line per code and
    modifier, no descriptors."""
    data = json.loads(path.read_text(encoding="utf-8"))
    release = {
        "edition": data["edition"],
        "year": data["year"],
        "conversion_factor": Decimal(data["conversion_factor"]),
    }
    cpt = CodeSystem.objects.get(slug="cpt")
    for item in data.get("codes", []):  # codes the demo does not describe, by the file's words
        _, created = Code.objects.get_or_create(
            system=cpt,
            key=code_key(item["code"]),
            defaults={"code": item["code"], "short_descriptor": item["short"]},
        )
        report.add("CPT codes", created)
    for item in data["lines"]:
        values = {name: value for name, value in item.items() if name not in {"code", "modifier"}}
        _, created = RvuLine.objects.get_or_create(
            code=item["code"],
            modifier=item["modifier"],
            edition=release["edition"],
            defaults={**values, **release},
        )
        report.add("RVU lines", created)


def load_localities_file(path: Path, report: LoadReport) -> None:
    """Medicare localities with their GPCIs and counties from `localities.json`, cut from the
    CMS files by `codes.demo_slices.localities`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for item in data["localities"]:
        locality, created = Locality.objects.get_or_create(
            mac=item["mac"],
            number=item["number"],
            defaults={
                name: item.get(name, "")
                for name in ("state", "state_name", "name", "area", "counties")
            },
        )
        report.add("localities", created)
        for row in item["gpcis"]:
            _, created = Gpci.objects.get_or_create(
                locality=locality,
                year=row["year"],
                defaults={
                    "work": Decimal(row["work"]),
                    "pe": Decimal(row["pe"]),
                    "mp": Decimal(row["mp"]),
                    "edition": row["edition"],
                    "notes": row.get("notes", []),
                },
            )
            report.add("GPCIs", created)


def load_plans(report: LoadReport) -> None:
    from accounts.models import Plan

    _, created = Plan.objects.get_or_create(
        slug="professional",
        defaults={
            "name": "Professional",
            "views_per_period": None,
            "description": "Unlimited code pages for one coder, with every section unlocked.",
        },
    )
    report.add("plans", created)


@transaction.atomic
def load_demo(directory: Path = FIXTURES) -> LoadReport:
    with data_changes_batched():
        return _load_demo(directory)


def _load_demo(directory: Path) -> LoadReport:
    report = LoadReport()
    for name in SYSTEM_FILES:
        load_system_file(directory / name, report)
    knowledge = directory / "knowledge.json"
    if knowledge.exists():
        load_knowledge(knowledge, report)
    for name, load in (
        *((rvu, load_rvu_file) for rvu in RVU_FILES),
        ("ncci.json", load_ncci_file),
        ("mue.json", load_mue_file),
        ("localities.json", load_localities_file),
    ):
        if (directory / name).exists():
            load(directory / name, report)
    load_plans(report)
    return report
