"""The bad-input corpus: hostile values sent to every URL pattern and every form of the site.

URL patterns are read from the resolver, so a new app's pages are covered without a change
here. `requests(size=...)` yields each request as plain data (method, path with its raw query,
POST fields, cookies, headers), for the test client (tests) or raw sockets (`make loadtest`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, quote_from_bytes

# Text values: each is tried in every path parameter, query parameter and form field.
VALUES: tuple[str, ...] = (
    "\x00",
    "64494\x00",
    "a\x00b\x00",
    "x" * 10_000,
    "6" * 10_000,
    "６４４９４",  # full-width digits
    "Ｍ５４.５０",
    "ϹΡΤ",  # Greek capitals that look like CPT
    "64494\u200b",  # zero-width space
    "\u202e49446",  # right-to-left override
    "𝟔𝟒𝟒𝟗𝟒",  # mathematical bold digits
    "ﬁ",
    "İ",
    "' OR '1'='1",
    "1; DROP TABLE codes_code; --",
    "%' UNION SELECT password FROM accounts_user --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "../../../../etc/passwd",
    "..",
    "//evil.example/",
    "\\\\evil\\share",
    " ",
    "",
    "99999999999999999999999999999999",
    "-1",
    "1e309",
    "NaN",
    "١٢٣",  # Arabic-Indic digits: int() accepts them
    "%",
    "{{ 7*7 }}",
)
# Raw query strings and path bytes that are not valid UTF-8 or not valid percent-encoding.
RAW_QUERY_VALUES: tuple[str, ...] = ("%FF%FE", "%C3%28", "%", "%zz", "%00", "%E2%80%AE", "%C0%AE")
RAW_PATH_SUFFIXES: tuple[str, ...] = ("%FF/", "%C0%AE%C0%AE/", "..%2F..%2F/", "%00/", "%2e%2e/")
# Query parameters the site's pages read, and a few they do not.
QUERY_NAMES: tuple[str, ...] = (
    "q",
    "page",
    "dos",
    "locality",
    "system",
    "group",
    "next",
    "o",
    "p",
    "e",
    "_changelist_filters",
)
# Valid values for path parameters, so that a hostile value in one reaches deep code.
PATH_DEFAULTS: dict[str, str] = {
    "system": "cpt",
    "code": "64494",
    "prefix": "CPT",
    "modifier": "59",
    "section": "cpt",
    "slug": "surgery",
    "app_label": "codes",
    "object_id": "1",
}
OVERSIZED_BODY = 3 * 1024 * 1024  # past DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
BAD_COOKIES: tuple[dict[str, str], ...] = (
    {"sessionid": "not-a-session"},
    {"sessionid": "x" * 5000},
    {"sessionid": "\x00abc"},
    {"sessionid": "../../etc/passwd"},
    {"csrftoken": "short"},
    {"csrftoken": "ä" * 32},
    {"csrftoken": "x" * 5000},
    {"messages": "garbage:garbage"},
)
BAD_CSRF_TOKENS: tuple[str, ...] = ("", "short", "ä" * 64, "x" * 64, "\x00" * 64, "x" * 10_000)


@dataclass(frozen=True)
class Probe:
    method: str
    path: str  # percent-encoded, with its raw query string
    data: dict[str, str] | None = None  # form fields for a POST
    body: bytes | None = None  # a raw body (oversized) instead of fields
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str | None = None  # a token to send instead of a valid one
    headers: dict[str, str] = field(default_factory=dict)


# --- URL patterns ---------------------------------------------------------------------------------

_ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)")


def pattern_templates() -> list[tuple[str, list[str]]]:
    """Every URL pattern as a path template with `{name}` slots, and its slot names."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from django.urls.resolvers import RegexPattern

    templates: list[tuple[str, list[str]]] = []

    def regex_to_template(regex: str) -> tuple[str, list[str]]:
        names: list[str] = []

        def slot(match: re.Match) -> str:
            names.append(match.group(1))
            choices = match.group(2).split("|")
            if match.group(1) not in PATH_DEFAULTS and re.fullmatch(r"[\w-]+", choices[0]):
                PATH_DEFAULTS.setdefault(match.group(1), choices[0])
            return "{" + match.group(1) + "}"

        text = _REGEX_PARAM.sub(slot, regex)
        text = re.sub(r"\(\?:[^()]*\)\??", "", text)  # optional groups: leave them out
        text = text.replace("^", "").replace("$", "").replace("\\Z", "").replace("/?", "/")
        text = text.replace("\\.", ".").replace("\\", "")
        return text, names

    def walk(patterns, prefix: str, prefix_names: list[str]) -> None:
        for entry in patterns:
            if isinstance(entry.pattern, RegexPattern):
                part, names = regex_to_template(entry.pattern.regex.pattern)
            else:
                route = str(entry.pattern)
                names = _ROUTE_PARAM.findall(route)
                part = _ROUTE_PARAM.sub(lambda m: "{" + m.group(1) + "}", route)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + part, prefix_names + names)
            elif isinstance(entry, URLPattern):
                templates.append((prefix + part, prefix_names + names))

    walk(get_resolver().url_patterns, "/", [])
    return templates


def fill(template: str, names: list[str], **values: str) -> str:
    slots = {name: quote(PATH_DEFAULTS.get(name, "1"), safe="") for name in names}
    slots.update({name: quote(value, safe="/") for name, value in values.items()})
    return template.format(**slots)


# --- Forms ----------------------------------------------------------------------------------------


class FormFinder(HTMLParser):
    """The forms of a page: action, method and the names of their fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.forms.append((found.get("action") or "", (found.get("method") or "get"), []))
        elif (
            tag in {"input", "textarea", "select"}
            and self.forms
            and found.get("name") not in {None, "csrfmiddlewaretoken"}
        ):
            self.forms[-1][2].append(found["name"])


def forms_in(html: str, page_path: str) -> list[tuple[str, str, list[str]]]:
    finder = FormFinder()
    finder.feed(html)
    return [
        (action if action.startswith("/") else page_path, method.lower(), names)
        for action, method, names in finder.forms
    ]


# --- The requests ---------------------------------------------------------------------------------


def _values(size: str) -> tuple[str, ...]:
    # The quick sample keeps one value of each kind; the whole corpus is for `make loadtest`.
    if size == "whole":
        return VALUES
    return (
        "a\x00b\x00",
        "x" * 10_000,
        "６４４９４",
        "' OR '1'='1",
        "<script>alert(1)</script>",
        "../../../../etc/passwd",
        "99999999999999999999999999999999",
    )


def url_probes(*, size: str = "quick") -> Iterator[Probe]:
    """GETs (and HEADs) of every URL pattern, a hostile value in each slot and query name."""
    values = _values(size)
    raw_queries = RAW_QUERY_VALUES if size == "whole" else ("%FF%FE", "%zz", "%00")
    names = QUERY_NAMES if size == "whole" else ("q", "page", "dos", "next")
    templates = pattern_templates()
    if size != "whole":
        # The admin's ~150 patterns are a dozen shapes repeated per model: a stride of them
        # covers every shape; every other app's patterns are all kept.
        admin = [t for t in templates if t[0].startswith("/admin/")]
        templates = [t for t in templates if not t[0].startswith("/admin/")] + admin[::12]
    for template, slots in templates:
        base = fill(template, slots)
        yield Probe("GET", base)
        yield Probe("HEAD", base)
        for slot in slots:
            for value in values:
                yield Probe("GET", fill(template, slots, **{slot: value}))
            if size == "whole":
                for suffix in RAW_PATH_SUFFIXES:
                    yield Probe("GET", fill(template, slots, **{slot: "x"}).rstrip("/") + suffix)
        for name in names:
            for value in values:
                yield Probe("GET", f"{base}?{name}={quote(value)}")
            for raw in raw_queries:
                yield Probe("GET", f"{base}?{name}={raw}")
        yield Probe("GET", f"{base}?{quote_from_bytes(b'%00')}=1&&&=&q")


def cookie_probes(*, paths: list[str]) -> Iterator[Probe]:
    for path in paths:
        for cookies in BAD_COOKIES:
            yield Probe("GET", path, cookies=cookies)


def form_probes(*, forms: list[tuple[str, str, list[str]]], size: str = "quick") -> Iterator[Probe]:
    """Every form submitted with hostile values, bad CSRF tokens and an oversized body."""
    values = _values(size)
    for action, method, names in forms:
        fields = names or ["q"]
        for value in values:
            data = dict.fromkeys(fields, value)
            if method == "post":
                yield Probe("POST", action, data=data)
            else:
                yield Probe("GET", action + "?" + "&".join(f"{n}={quote(value)}" for n in fields))
        if method != "post":
            continue
        for token in BAD_CSRF_TOKENS if size == "whole" else BAD_CSRF_TOKENS[:3]:
            yield Probe("POST", action, data=dict.fromkeys(fields, "x"), csrf=token)
        yield Probe("POST", action, body=b"a=" + b"x" * OVERSIZED_BODY)
        yield Probe("POST", action, data={f"f{i}": "x" for i in range(1200)})
