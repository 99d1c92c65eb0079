"""Look-ups for code pages: a code by any spelling, its neighbours, near matches."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Value
from django.db.models.functions import Upper

from codes.models import Code, CodeSystem
from codes.normalize import SYSTEMS, code_key

# The knowledge an account unlocks below the descriptions, in page order.
SECTION_TITLES = (
    "Coding Guidelines and Tips",
    "Modifiers",
    "ICD-10-CM Crosswalk",
    "NCCI Edits and MUE",
    "RVUs and Medicare Payment",
    "Medicare Coverage",
    "History and Related Codes",
)
# Their anchors on the page (the id of each section), for the page's table of contents.
SECTION_TOC = tuple(
    zip(
        ("guidelines", "modifiers", "crosswalk", "ncci", "payment", "coverage", "history"),
        SECTION_TITLES,
        strict=True,
    )
)

FAMILY_WINDOW = 12  # family members shown on each side of the code

RELATED_FIELDS = ("id", "code", "key", "short_descriptor", "status", "is_addon", "role")


@dataclass
class RelatedCodes:
    family: list[Code] = field(default_factory=list)
    primaries: list[Code] = field(default_factory=list)
    addons: list[Code] = field(default_factory=list)
    previous: Code | None = None
    next: Code | None = None
    family_is_partial: bool = False  # more of the family than the window shows


def related_codes(code: Code) -> RelatedCodes:
    """The code's family (its range), primary and add-on codes, and its neighbours — one query."""
    base = Code.objects.filter(system_id=code.system_id)
    parts = [
        base.active().filter(key__lt=code.key).order_by("-key").annotate(role=Value("prev"))[:1],
        base.active().filter(key__gt=code.key).order_by("key").annotate(role=Value("next"))[:1],
        Code.objects.filter(addon_codes=code).annotate(role=Value("primary")),
        Code.objects.filter(primary_codes=code).annotate(role=Value("addon")),
    ]
    if code.group_id:
        # A window of the family around the code: an ICD-10-CM category can hold thousands.
        family = Code.objects.filter(group_id=code.group_id).annotate(role=Value("family"))
        parts.append(family.filter(key__lt=code.key).order_by("-key")[:FAMILY_WINDOW])
        parts.append(family.filter(key__gte=code.key).order_by("key")[: FAMILY_WINDOW + 1])
    first, *rest = (part.values_list(*RELATED_FIELDS) for part in parts)
    related = RelatedCodes()
    for id_, code_str, key, short, status, is_addon, role in sorted(
        first.union(*rest, all=True), key=lambda row: row[2]
    ):
        item = Code(
            id=id_,
            code=code_str,
            key=key,
            short_descriptor=short,
            status=status,
            is_addon=is_addon,
            system_id=code.system_id,
        )
        item.system = code.system  # URLs need the system; it is already loaded
        if role == "prev":
            related.previous = item
        elif role == "next":
            related.next = item
        elif role == "primary":
            related.primaries.append(item)
        elif role == "addon":
            related.addons.append(item)
        else:
            related.family.append(item)
    before = sum(1 for member in related.family if member.key < code.key)
    related.family_is_partial = (
        before == FAMILY_WINDOW or len(related.family) - before == FAMILY_WINDOW + 1
    )
    return related


def near_matches(*, system: CodeSystem | None, raw: str, limit: int = 8) -> list[Code]:
    """Codes that look like what was typed: same leading characters, or a similar key."""
    key = code_key(raw)[:10]
    if not key or not key.isascii() or not key.isalnum():
        return []
    queryset = Code.objects.select_related("system").active()
    if system is not None:
        queryset = queryset.filter(system=system)
    for length in range(min(len(key), 5), 1, -1):
        found = list(queryset.filter(key__startswith=key[:length]).order_by("key")[:limit])
        if found:
            return found
    return list(
        queryset.annotate(similarity=TrigramSimilarity(Upper("key"), key))
        .filter(similarity__gt=0.2)
        .order_by("-similarity", "key")[:limit]
    )


def spelling_for_prefix(prefix: str):
    """The code system a URL prefix names, accepting any case and common variants."""
    aliases = {
        "cpt": "cpt",
        "hcpcs": "hcpcs",
        "icd-10-cm": "icd10cm",
        "icd10cm": "icd10cm",
        "icd-10": "icd10cm",
        "icd10": "icd10cm",
    }
    slug = aliases.get(prefix.lower())
    return SYSTEMS[slug] if slug else None
