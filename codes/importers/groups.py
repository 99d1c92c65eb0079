"""Top-level sections for CPT and HCPCS Level II, whose data files carry no tree of their own.

The sections follow the code sets' own division (CPT by numeric range and by the letter that
ends Category II, III and laboratory codes; HCPCS by first letter). A section that already
exists (from the demo content or an editor) is kept as it is, and a code already placed in a
finer group keeps it: these tables only fill what is missing.
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
    "F": Section("category-ii", "Category II Codes"),
    "T": Section("category-iii", "Category III Codes"),
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
    "A": "transportation services including ambulance, medical and surgical supplies",
    "B": "enteral and parenteral therapy",
    "C": "outpatient prospective payment system (temporary)",
    "D": "dental procedures",
    "E": "durable medical equipment",
    "G": "procedures/professional services (temporary)",
    "H": "alcohol and drug abuse treatment and behavioral health services",
    "J": "drugs administered other than oral method",
    "K": "durable medical equipment (temporary)",
    "L": "orthotic and prosthetic procedures and devices",
    "M": "medical services and quality measures",
    "P": "pathology and laboratory services",
    "Q": "miscellaneous services (temporary)",
    "R": "diagnostic radiology services",
    "S": "private payer codes (temporary national codes, non-Medicare)",
    "T": "codes established for state Medicaid agencies",
    "U": "laboratory tests (temporary)",
    "V": "vision, hearing and speech-language pathology services",
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
                sort_key=f"{s.code_from}|{position:05d}",
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
    about = HCPCS_SECTIONS.get(letter)
    title = f"{letter} codes: {about}" if about else f"{letter} codes"
    return Section(f"{letter.lower()}-codes", title, f"{letter}0000", f"{letter}9999")


@functools.cache
def static_groups(slug: str) -> StaticTree:
    if slug == "cpt":
        by_slug = {s.slug: s for _, s in CPT_NUMERIC} | {s.slug: s for s in CPT_SUFFIX.values()}
        return StaticTree([by_slug[name] for name in CPT_ORDER], _cpt_section)
    return StaticTree(
        [_hcpcs_section(f"{letter}0000") for letter in HCPCS_SECTIONS], _hcpcs_section
    )
