"""Look-ups for code pages: a code by any spelling, its neighbours, near matches."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models.functions import Upper
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from casepilot.structured import json_ld
from codes.models import Code, CodeGroup, CodeSystem
from codes.normalize import SYSTEMS, code_key
from codes.structured import medical_code

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

# One statement for everything around a code. Written out rather than composed with the ORM:
# composing seven querysets into a union costs more Python time than Postgres takes to run it.
RELATED_SQL = """
(SELECT id, code, key, short_descriptor, status, is_addon, 'prev' AS role FROM codes_code
  WHERE system_id = %(system)s AND status = 'active' AND key < %(key)s ORDER BY key DESC LIMIT 1)
UNION ALL
(SELECT id, code, key, short_descriptor, status, is_addon, 'next' FROM codes_code
  WHERE system_id = %(system)s AND status = 'active' AND key > %(key)s ORDER BY key LIMIT 1)
UNION ALL
(SELECT c.id, c.code, c.key, c.short_descriptor, c.status, c.is_addon, 'primary'
  FROM codes_code c JOIN codes_code_primary_codes p ON p.to_code_id = c.id
  WHERE p.from_code_id = %(id)s)
UNION ALL
(SELECT c.id, c.code, c.key, c.short_descriptor, c.status, c.is_addon, 'addon'
  FROM codes_code c JOIN codes_code_primary_codes p ON p.from_code_id = c.id
  WHERE p.to_code_id = %(id)s)
UNION ALL
(SELECT id, code, key, short_descriptor, status, is_addon, 'family' FROM codes_code
  WHERE group_id = %(group)s AND key < %(key)s ORDER BY key DESC LIMIT %(window)s)
UNION ALL
(SELECT id, code, key, short_descriptor, status, is_addon, 'family' FROM codes_code
  WHERE group_id = %(group)s AND key >= %(key)s ORDER BY key LIMIT %(window)s + 1)
"""


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
    params = {
        "system": code.system_id,
        "key": code.key,
        "id": code.pk,
        "group": code.group_id,  # NULL matches nothing: no family
        "window": FAMILY_WINDOW,
    }
    with connection.cursor() as cursor:
        cursor.execute(RELATED_SQL, params)
        rows = cursor.fetchall()
    related = RelatedCodes()
    for id_, code_str, key, short, status, is_addon, role in sorted(rows, key=lambda r: r[2]):
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


@dataclass
class CodePage:
    """What a code page shows that is the same for every viewer: the code (with its system
    and group tree linked), its URL, breadcrumbs, title block, related codes and the aside
    built from them, the sections' table of contents and the structured data.
    Cached whole by `codes.page_cache`; nothing in it is metered text on the page until a
    view chooses to render it for a viewer who may read it."""

    code: Code
    crumbs: list[CodeGroup]
    related: RelatedCodes
    aside_html: SafeString
    url: str
    crumbs_html: SafeString
    head_html: SafeString
    toc_html: SafeString  # shown to accounts only, with the sections
    structured_data: SafeString


def code_page_load(*, system_slug: str, canonical: str) -> CodePage | None:
    """The viewer-independent part of the code page for `canonical`, or None if no such code."""
    found = Code.objects.for_page().filter(system__slug=system_slug, key=code_key(canonical))
    code = next(iter(found.order_by()[:1]), None)
    if code is None:
        return None
    crumbs = CodeGroup.objects.chain_to(code.group_id) if code.group_id else []
    if crumbs:
        code.group = crumbs[-1]  # with its parents linked: the sections walk them too
    related = related_codes(code)
    context = {"code": code, "system": code.system, "related": related, "crumbs": crumbs}
    return CodePage(
        code=code,
        crumbs=crumbs,
        related=related,
        aside_html=render_to_string("codes/includes/code_aside.html", context),
        url=code.get_absolute_url(),
        crumbs_html=render_to_string("includes/breadcrumbs.html", context),
        head_html=render_to_string("codes/includes/code_head.html", context),
        toc_html=render_to_string("codes/includes/toc.html", {"section_toc": SECTION_TOC}),
        structured_data=json_ld(medical_code(code)),
    )


def fragment_render(template: str, *, code: Code, editor: bool, **context: object) -> SafeString:
    """A cached part of a code page, rendered from its explicit inputs only.

    No request and no context processors: whatever the part shows must come in as an
    argument (and so be part of its cache key). The few request-shaped names the templates
    use are given as plain values: the page's own path and whether the viewer edits content.
    """
    context = {
        "code": code,
        "system": code.system,
        "editor": editor,
        "user": {"is_staff": editor},
        "request": {"path": code.get_absolute_url()},
        "locked_section_titles": SECTION_TITLES,
        **context,
    }
    return render_to_string(template, context)
