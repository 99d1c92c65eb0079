"""schema.org structured data in a page's head, for any app (code pages, job pages).

The JSON goes into a `<script type="application/ld+json">` data block (data, not code: the
CSP does not apply to it). `<`, `>` and `&` are written as \\u escapes, as Django's json_script
does, so no text in the data can close the element.
"""

from __future__ import annotations

import json

from django.utils.safestring import SafeString, mark_safe

JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_ld(data: dict[str, object]) -> SafeString:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return mark_safe(  # noqa: S308 — escaped above: nothing in it can end the element
        f'<script type="application/ld+json">{text.translate(JSON_SCRIPT_ESCAPES)}</script>'
    )
