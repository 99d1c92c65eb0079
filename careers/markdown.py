"""Job descriptions: Markdown rendered with markdown-it-py, then sanitized with nh3.

Raw HTML in the Markdown is parsed so that nh3 can remove what is not allowed — a `<script>`
goes with its content, not shown as text. Headings move down two levels: the page's own
headings are h1 (the job) and h2 (its sections), and a description's "# Duties" belongs
under them.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "a", "h3", "h4", "h5", "h6",
    "blockquote", "code", "pre", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}}
HEADING_SHIFT = 2

_parser = MarkdownIt("commonmark", {"html": True, "linkify": False}).disable("image")


def markdown_render(text: str) -> str:
    tokens = _parser.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + HEADING_SHIFT, 6)
            token.tag = f"h{level}"
    html = _parser.renderer.render(tokens, _parser.options, {})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener noreferrer",
    )


def markdown_plain(text: str) -> str:
    """The description as plain text (for the feed summary and mail)."""
    return nh3.clean(markdown_render(text), tags=set()).strip()
