"""Spelling rules for codes: what a code looks like in each system and its one canonical form.

Kept free of Django models so that URLs, search and importers share one definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CODE_INPUT = 16  # longer input cannot be a code in any system; reject before any work


@dataclass(frozen=True)
class SystemSpelling:
    slug: str
    url_prefix: str
    pattern: re.Pattern[str]
    example: str

    def canonical(self, raw: str) -> str | None:
        """Return the canonical spelling of `raw`, or None when it cannot be a code here."""
        if not raw or len(raw) > MAX_CODE_INPUT or not raw.isascii():
            return None
        compact = raw.strip().upper().replace(".", "")
        if not self.pattern.fullmatch(compact):
            return None
        if self.slug == "icd10cm" and len(compact) > 3:
            return f"{compact[:3]}.{compact[3:]}"
        return compact


SYSTEMS: dict[str, SystemSpelling] = {
    # CPT: Category I five digits; Category II four digits + F; III + T; PLA + U; vaccines + A/M
    "cpt": SystemSpelling("cpt", "cpt", re.compile(r"\d{4}[0-9A-Z]"), "64494"),
    # HCPCS Level II: a letter A–V then four digits
    "hcpcs": SystemSpelling("hcpcs", "hcpcs", re.compile(r"[A-V]\d{4}"), "J1100"),
    # ICD-10-CM: a letter, two alphanumerics (a digit second, except in categories such as
    # QA0 added for FY2026), then up to four more characters after the dot
    "icd10cm": SystemSpelling(
        "icd10cm", "icd-10-cm", re.compile(r"[A-Z][0-9A-Z][0-9A-Z][0-9A-Z]{0,4}"), "M54.50"
    ),
}
BY_URL_PREFIX: dict[str, SystemSpelling] = {s.url_prefix: s for s in SYSTEMS.values()}


def code_key(code: str) -> str:
    """The compact form used for lookups: upper case, no dot (M54.50 -> M5450)."""
    return code.strip().upper().replace(".", "")


def canonical_code(system_slug: str, raw: str) -> str | None:
    return SYSTEMS[system_slug].canonical(raw)


def guess_system(raw: str) -> list[tuple[str, str]]:
    """Every (system slug, canonical code) that `raw` could be, most specific first."""
    found = []
    for slug in ("hcpcs", "cpt", "icd10cm"):
        canonical = SYSTEMS[slug].canonical(raw)
        if canonical:
            found.append((slug, canonical))
    return found
