"""The code-system records importers fill: created when missing (worded as the demo content in
fixtures/ words them), edition kept current.

An existing record's copyright text is never replaced: editors may have worded it for the
site (and for CPT it follows the licence agreement), so only a new record gets ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from codes.importers.base import year_in
from codes.models import CodeSystem


@dataclass(frozen=True)
class SystemMeta:
    name: str
    short_name: str
    publisher: str
    copyright: str  # may hold {year}
    description: str
    sort: int


SYSTEM_META: dict[str, SystemMeta] = {
    "cpt": SystemMeta(
        name="Current Procedural Terminology",
        short_name="CPT",
        publisher="American Medical Association",
        copyright="CPT® © Copyright {year} American Medical Association. All rights reserved.",
        description="Procedure and service codes for physicians and other practitioners.",
        sort=1,
    ),
    "hcpcs": SystemMeta(
        name="Healthcare Common Procedure Coding System Level II",
        short_name="HCPCS",
        publisher="Centers for Medicare & Medicaid Services",
        copyright="HCPCS Level II codes and descriptors are maintained by the Centers for "
        "Medicare & Medicaid Services (CMS) and are in the public domain.",
        description="Supplies, equipment, drugs, ambulance and other services not in CPT.",
        sort=2,
    ),
    "icd10cm": SystemMeta(
        name="International Classification of Diseases, Tenth Revision, Clinical Modification",
        short_name="ICD-10-CM",
        publisher="CDC National Center for Health Statistics",
        copyright="ICD-10-CM is published by the Centers for Disease Control and Prevention's "
        "National Center for Health Statistics (CDC/NCHS) and is in the public domain.",
        description="Diagnosis codes for every US health care setting.",
        sort=3,
    ),
}


def edition_year(edition: str) -> int | None:
    """2026 for "2026", "FY2026" or "2023-JAN"."""
    return year_in(edition)


def edition_label(slug: str, edition: str) -> str:
    """How a code set's edition is cited: "ICD-10-CM FY2026", "CPT 2025"."""
    name = SYSTEM_META[slug].short_name
    return f"{name} {edition}" if edition else name


def system_for_import(
    slug: str, *, edition: str | None, copyright_year: int | None, dry_run: bool
) -> CodeSystem | None:
    """The system's record, created when missing and its edition moved forward (never back).

    On a dry run a missing record is not created and None comes back.
    """
    system = CodeSystem.objects.filter(slug=slug).first()
    if system is None:
        if dry_run:
            return None
        meta = SYSTEM_META[slug]
        year = copyright_year or edition_year(edition or "") or ""
        return CodeSystem.objects.create(
            slug=slug,
            name=meta.name,
            short_name=meta.short_name,
            publisher=meta.publisher,
            edition=edition or "",
            copyright=meta.copyright.format(year=year).replace("  ", " "),
            description=meta.description,
            sort=meta.sort,
        )
    if edition and _newer_or_equal(edition, system.edition) and edition != system.edition:
        if not dry_run:
            CodeSystem.objects.filter(pk=system.pk).update(edition=edition)
        system.edition = edition
    return system


def _newer_or_equal(edition: str, current: str) -> bool:
    new, old = edition_year(edition), edition_year(current)
    if new is None or old is None:
        return not current
    return new >= old


def is_older_edition(edition: str, system: CodeSystem | None) -> bool:
    """True when `edition` is an earlier year than the one the site already carries."""
    if system is None or not system.edition:
        return False
    new, old = edition_year(edition), edition_year(system.edition)
    return new is not None and old is not None and new < old
