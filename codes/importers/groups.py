"""Top-level sections for CPT and HCPCS Level II, whose data files carry no tree of their own.

The sections follow the code sets' own division (CPT by numeric range and by the letter that
ends Category II, III and laboratory codes; HCPCS by first letter). A code an editor or a
fixture already placed in a finer group keeps it: importers only fill codes without one.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from codes.importers.codesets import GroupEntry
from codes.models import CodeGroup


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    code_from: str = ""
    code_to: str = ""


CPT_NUMERIC = [  # (last number of the span, section); spans are contiguous from 00000
    (9999, Section("anesthesia", "Anesthesia", "00100", "01999")),
    (69999, Section("surgery", "Surgery", "10004", "69990")),
    (79999, Section("radiology", "Radiology", "70010", "79999")),
    (89999, Section("pathology-and-laboratory", "Pathology and Laboratory", "80047", "89398")),
    (99199, Section("medicine", "Medicine", "90281", "99607")),
    (99499, Section("evaluation-and-management", "Evaluation and Management", "99202", "99499")),
    (99999, Section("medicine", "Medicine", "90281", "99607")),
]
CPT_LAST = [last for last, _ in CPT_NUMERIC]
CPT_SUFFIX = {
    "F": Section("category-ii", "Category II: performance measurement"),
    "T": Section("category-iii", "Category III: emerging technology and services"),
    "U": Section("proprietary-laboratory-analyses", "Proprietary Laboratory Analyses (PLA)"),
    "M": Section("multianalyte-assays", "Multianalyte Assays with Algorithmic Analyses"),
    "A": Section("medicine", "Medicine", "90281", "99607"),  # vaccine administration
}
CPT_ORDER = [
    "evaluation-and-management",
    "anesthesia",
    "surgery",
    "radiology",
    "pathology-and-laboratory",
    "medicine",
    "category-ii",
    "category-iii",
    "proprietary-laboratory-analyses",
    "multianalyte-assays",
]

HCPCS_SECTIONS = {
    "A": "Transportation, medical and surgical supplies, miscellaneous and experimental",
    "B": "Enteral and parenteral therapy",
    "C": "Hospital outpatient prospective payment system (temporary codes)",
    "D": "Dental procedures",
    "E": "Durable medical equipment",
    "G": "Procedures and professional services (temporary codes)",
    "H": "Alcohol and drug abuse treatment and behavioral health services",
    "J": "Drugs administered other than orally, and chemotherapy drugs",
    "K": "Durable medical equipment (temporary codes)",
    "L": "Orthotic and prosthetic procedures and devices",
    "M": "Medical services and quality measures",
    "P": "Pathology and laboratory services",
    "Q": "Miscellaneous services (temporary codes)",
    "R": "Diagnostic radiology services",
    "S": "Private payer codes (temporary national codes, non-Medicare)",
    "T": "State Medicaid agency codes",
    "V": "Vision, hearing and speech-language pathology services",
}


class StaticTree:
    def __init__(self, sections: list[Section], locate: Callable[[str], Section | None]) -> None:
        self.sections, self.locate = sections, locate

    def group_for(self, code: str) -> str | None:
        section = self.locate(code)
        return section.slug if section else None

    def entries(self, codes: Iterable[str]) -> list[GroupEntry]:
        """The sections these codes fall in (a section without codes would browse empty)."""
        used = {self.group_for(code) for code in codes}
        return [
            GroupEntry(
                slug=s.slug,
                title=s.title,
                kind=CodeGroup.Kind.SECTION,
                code_from=s.code_from,
                code_to=s.code_to,
                sort_key=f"{position:02d}",
            )
            for position, s in enumerate(self.sections)
            if s.slug in used
        ]


def _cpt_section(code: str) -> Section | None:
    if code[:4].isdigit() and code[4].isalpha():
        return CPT_SUFFIX.get(code[4])
    if not code.isdigit():
        return None
    return CPT_NUMERIC[bisect.bisect_left(CPT_LAST, int(code))][1]


def _hcpcs_section(code: str) -> Section:
    letter = code[0]
    return Section(
        f"{letter.lower()}-codes",
        HCPCS_SECTIONS.get(letter, f"{letter} codes"),
        f"{letter}0000",
        f"{letter}9999",
    )


@functools.cache
def static_groups(slug: str) -> StaticTree:
    if slug == "cpt":
        by_slug = {s.slug: s for _, s in CPT_NUMERIC} | {s.slug: s for s in CPT_SUFFIX.values()}
        return StaticTree([by_slug[name] for name in CPT_ORDER], _cpt_section)
    return StaticTree(
        [_hcpcs_section(f"{letter}0000") for letter in HCPCS_SECTIONS], _hcpcs_section
    )
