"""Case2Code: one search box for every code, and the counts the browse pages show.

A query is read for its shape before the database is asked anything:

- one code, spelled as any system spells it (`64494`, `j1100`, `M54.50`, `m5450`): its page;
- the start of a code (`6449`, `J11`, `M54.5`, `992*`): the codes that begin so, in code order;
- a range (`64490-64495`, `99202–99215`, `M54.0 to M54.9`): the codes in it, in code order;
- several codes (`99213, 99214`): those codes;
- words: full-text search over the descriptors (short weighted A, medium and official B, ours
  C), ranked, abbreviations expanded through `SearchSynonym`. When no code holds every word, a
  second, fuzzy pass takes codes holding any of them, word beginnings, and short descriptors
  that are spelled alike (trigram similarity), so typos still find their codes.

Results carry the code, its short title and the first sentence of our plain-language text,
never the official descriptor (the search matches on it; the page shows it, metered).
Input that cannot be searched (a NUL byte, a query longer than `MAX_QUERY_LENGTH`, an unknown
filter) raises `QueryRejected` before any SQL runs.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Count,
    Q,
    Window,
)
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from codes.models import Code, CodeGroup, CodeSystem, SearchSynonym
from codes.normalize import BY_URL_PREFIX, SYSTEMS, code_key
from codes.pages import near_matches

MAX_QUERY_LENGTH = 200
PAGE_SIZE = 25
MAX_PAGE = 10_000
MAX_WORDS = 12  # words past this add cost and almost never change the answer
MAX_LISTED_CODES = 25
SUGGEST_LIMIT = 8
FUZZY_MIN_LENGTH = 4  # shorter words are spelled alike by too many descriptors to help
CONFIG = "english"  # the text-search configuration of Code.search_vector

QueryKind = Literal["empty", "blank", "code", "codes", "range", "words"]
Status = Literal["active", "deleted", "all"]
STATUSES: tuple[Status, ...] = ("active", "deleted", "all")


class QueryRejected(ValueError):
    """Input that is not searched at all; the message is shown to the person who typed it."""


# --- Reading the query ------------------------------------------------------------------------

# Letters from other scripts that look like Latin ones: a code typed or pasted with them
# (a Cyrillic М in М54.50) is still the code the person meant.
LOOKALIKES = str.maketrans(
    "АВЕКМНОРСТУХІЈЅаеорсухіјѕΑΒΕΖΗΙΚΜΝΟΡΤΥΧο",
    "ABEKMHOPCTYXIJSaeopcyxijsABEZHIKMNOPTYXo",
)
DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹘﹣", "-"))
BREAKS = {"Cc", "Co", "Cs", "Zl", "Zp"}

# A code or the start of one, without its dot: CPT/HCPCS/ICD all fit one of these shapes.
CODE_SHAPE = re.compile(r"[A-Z]\d[0-9A-Z]{0,5}|\d[0-9A-Z]{0,4}")
RANGE_SHAPE = re.compile(r"(\S+?)\s*(?:-|\s(?:to|through|thru)\s)\s*(\S+)", re.IGNORECASE)
TOKEN_EDGE = "\"'.,;:!?()[]{}<>«»“”‘’"
ALNUM_RUN = re.compile(r"[a-z0-9]+")
PLAIN_WORDS = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")


@dataclass(frozen=True)
class ParsedQuery:
    kind: QueryKind
    text: str = ""  # the query as we read it, shown back in the box
    spelling: str = ""  # "code": upper case, dot as typed (J11.00 vs J1100)
    key: str = ""  # "code": compact form; "range": low end
    high: str = ""  # "range": high end
    keys: tuple[str, ...] = ()  # "codes"
    words: tuple[str, ...] = ()  # "words" (and the fallback for a code-like word)


def _clean(raw: str) -> str:
    if "\x00" in raw:
        raise QueryRejected("The search contained a NUL character, which no code or word has.")
    if len(raw) > MAX_QUERY_LENGTH:
        raise QueryRejected(
            f"Searches are limited to {MAX_QUERY_LENGTH} characters; this one had {len(raw):,}."
        )
    text = unicodedata.normalize("NFKC", raw).translate(DASHES)
    # Formatting characters (zero-width spaces, joiners) vanish, as they do on screen; other
    # invisible ones separate words.
    text = "".join(
        ""
        if unicodedata.category(ch) == "Cf"
        else " "
        if unicodedata.category(ch) in BREAKS
        else ch
        for ch in text
    )
    return " ".join(text.split())


def _code_shaped(token: str) -> str | None:
    """The compact key `token` would be as a code or code prefix, or None."""
    ascii_token = token.translate(LOOKALIKES).strip(TOKEN_EDGE).rstrip("*").upper()
    if not ascii_token.isascii() or ascii_token.count(".") > 1 or ascii_token.startswith("."):
        return None
    compact = ascii_token.replace(".", "")
    return compact if CODE_SHAPE.fullmatch(compact) else None


def _full_code(token: str) -> str | None:
    """The key of `token` if some system would accept it as a whole code."""
    key = _code_shaped(token)
    if key is None or token.rstrip().endswith("*"):
        return None
    spelled = token.translate(LOOKALIKES).strip(TOKEN_EDGE)
    return key if any(s.canonical(spelled) for s in SYSTEMS.values()) else None


def code_token_key(token: str) -> str | None:
    """The compact key of one typed or pasted code, spelled any way the search box accepts
    (lower case, a dot, look-alike letters), or None when it is not a whole code."""
    return _full_code(unicodedata.normalize("NFKC", token))


def _words(text: str) -> tuple[str, ...]:
    tokens = [t.strip(TOKEN_EDGE).lower() for t in text.split()]
    return tuple(t for t in tokens if any(ch.isalnum() for ch in t))[:MAX_WORDS]


def query_parse(*, raw: str) -> ParsedQuery:
    """Read what was typed; raises QueryRejected for input that is never searched."""
    text = _clean(raw)
    if not text:
        return ParsedQuery(kind="empty")
    if not any(ch.isalnum() for ch in text):
        return ParsedQuery(kind="blank", text=text)
    words = _words(text)
    tokens = text.replace(",", " ").split()
    if len(tokens) == 1:
        key = _code_shaped(tokens[0])
        if key is not None:
            spelling = tokens[0].translate(LOOKALIKES).strip(TOKEN_EDGE).rstrip("*").upper()
            return ParsedQuery(kind="code", text=text, spelling=spelling, key=key, words=words)
    if 1 < len(tokens) <= MAX_LISTED_CODES:
        keys = [_full_code(token) for token in tokens]
        if all(keys):
            return ParsedQuery(kind="codes", text=text, keys=tuple(dict.fromkeys(keys)))
    ends = RANGE_SHAPE.fullmatch(text)
    if ends:
        low, high = _range_ends(ends.group(1), ends.group(2))
        if low and high:
            low, high = sorted((low, high))
            return ParsedQuery(kind="range", text=text, key=low, high=high, words=words)
    return ParsedQuery(kind="words", text=text, words=words)


def _range_ends(first: str, second: str) -> tuple[str | None, str | None]:
    """Both ends' keys when one system accepts both as codes."""
    a = first.translate(LOOKALIKES).strip(TOKEN_EDGE)
    b = second.translate(LOOKALIKES).strip(TOKEN_EDGE)
    if any(s.canonical(a) and s.canonical(b) for s in SYSTEMS.values()):
        return code_key(a), code_key(b)
    return None, None


def key_successor(key: str) -> str | None:
    """The smallest key greater than every key starting with `key` (None: no such key).

    Keys are upper-case letters and digits, which every collation orders digits first and
    letters in alphabet order, so `key >= p AND key < key_successor(p)` is a prefix match that
    a plain b-tree index answers whatever the database's collation.
    """
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    chars = list(key)
    while chars:
        position = alphabet.find(chars[-1])
        if 0 <= position < len(alphabet) - 1:
            chars[-1] = alphabet[position + 1]
            return "".join(chars)
        chars.pop()
    return None


def page_parse(*, raw: str | None) -> int:
    if raw is None or raw == "":
        return 1
    # Length first: int() of thousands of digits is slow, and past 4,300 it raises.
    if len(raw) > 6 or not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise QueryRejected(f"The page number must be a whole number from 1 to {MAX_PAGE:,}.")
    return int(raw)


# --- Filters ------------------------------------------------------------------------------------

GROUP_SLUG = re.compile(r"[-a-z0-9]{1,120}")


@dataclass(frozen=True)
class SearchFilters:
    system: str = ""  # a system slug, or every system
    status: Status = "active"
    group: CodeGroup | None = None

    @property
    def narrowed(self) -> bool:
        return bool(self.system or self.group)

    def as_params(self) -> dict[str, str]:
        params = {}
        if self.system:
            params["system"] = self.system
        if self.status != "active":
            params["status"] = self.status
        if self.group is not None:
            params["group"] = self.group.slug
        return params


def filters_parse(*, system: str = "", status: str = "", group: str = "") -> SearchFilters:
    """Validate the filters from the query string; a group is looked up (one query)."""
    slug = ""
    if system:
        wanted = system.strip().lower()
        spelling = SYSTEMS.get(wanted) or BY_URL_PREFIX.get(wanted)
        if spelling is None:
            raise QueryRejected("Choose a code set from the list: CPT, HCPCS or ICD-10-CM.")
        slug = spelling.slug
    if status and status not in STATUSES:
        raise QueryRejected("Status must be active, deleted or all.")
    found = None
    if group:
        if not slug:
            raise QueryRejected("A group is searched within its code set: choose the code set too.")
        if not GROUP_SLUG.fullmatch(group):
            raise QueryRejected("That group does not exist.")
        found = (
            CodeGroup.objects.select_related("system").filter(system__slug=slug, slug=group).first()
        )
        if found is None:
            raise QueryRejected("That group does not exist in this code set.")
    return SearchFilters(system=slug, status=status or "active", group=found)  # type: ignore[arg-type]


# --- SQL ------------------------------------------------------------------------------------
# Searches run as hand-written statements: the ORM spent more time building and compiling
# these queries than Postgres spent answering them.

CODES = Code._meta.db_table
SYSTEMS_TABLE = CodeSystem._meta.db_table
GROUPS = CodeGroup._meta.db_table
FROM = f"{CODES} c JOIN {SYSTEMS_TABLE} s ON s.id = c.system_id"
# The fields a result needs, in the model's own field order (from_db maps values that way);
# the official descriptor is not among them.
RESULT_CODE_FIELDS = {
    "id",
    "system_id",
    "code",
    "key",
    "short_descriptor",
    "plain_language",
    "status",
    "is_addon",
    "is_billable",
}
CODE_FIELDS = [f.attname for f in Code._meta.concrete_fields if f.attname in RESULT_CODE_FIELDS]
SYSTEM_FIELDS = [
    f.attname
    for f in CodeSystem._meta.concrete_fields
    if f.attname in {"id", "slug", "short_name", "sort"}
]
COLUMNS = ", ".join([f"c.{name}" for name in CODE_FIELDS] + [f"s.{name}" for name in SYSTEM_FIELDS])
CODE_ORDER = "s.sort, s.slug, c.key"


@dataclass(frozen=True)
class Sql:
    """A piece of SQL and its parameters, in the order they appear."""

    text: str
    params: tuple = ()

    def __add__(self, other: Sql | str) -> Sql:
        if isinstance(other, str):
            return Sql(self.text + other, self.params)
        return Sql(self.text + other.text, self.params + other.params)

    def __radd__(self, other: str) -> Sql:
        return Sql(other + self.text, self.params)


def _listed(pieces: list[Sql | str]) -> Sql:
    listed = Sql("")
    for n, piece in enumerate(pieces):
        listed = listed + (", " if n else "") + piece
    return listed


def _joined(pieces: list[Sql], separator: str) -> Sql:
    joined = Sql("(")
    for n, piece in enumerate(pieces):
        joined = joined + (separator if n else "") + piece
    return joined + ")"


def _where(filters: SearchFilters, *, status: bool = True) -> Sql:
    where = Sql("TRUE")
    if filters.system:
        where = where + Sql(" AND s.slug = %s", (filters.system,))
    if status and filters.status != "all":
        where = where + Sql(" AND c.status = %s", (filters.status,))
    if filters.group is not None:
        where = where + Sql(
            " AND c.group_id IN (WITH RECURSIVE tree(id) AS (SELECT %s::bigint UNION ALL "
            f"SELECT g.id FROM {GROUPS} g JOIN tree ON g.parent_id = tree.id) "
            "SELECT id FROM tree)",
            (filters.group.pk,),
        )
    return where


def _key_range(low: str, high_prefix: str) -> Sql:
    """Keys from `low` up to every key that starts with `high_prefix`."""
    upper = key_successor(high_prefix)
    if upper is None:
        return Sql(" AND c.key >= %s", (low,))
    return Sql(" AND c.key >= %s AND c.key < %s", (low, upper))


def _fetch(sql: Sql) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql.text, list(sql.params))
        return cursor.fetchall()


def _codes(rows: list[tuple]) -> list[Code]:
    """Codes from rows that begin with COLUMNS, each with its system attached.

    Built as the ORM builds loaded rows (from_db, the other fields deferred): the official
    descriptor is not even loaded.
    """
    width = len(CODE_FIELDS)
    at_system = CODE_FIELDS.index("system_id")
    systems: dict[int, CodeSystem] = {}
    hits = []
    for row in rows:
        system_id = row[at_system]
        if system_id not in systems:
            systems[system_id] = CodeSystem.from_db(
                connection.alias, SYSTEM_FIELDS, row[width : width + len(SYSTEM_FIELDS)]
            )
        hit = Code.from_db(connection.alias, CODE_FIELDS, row[:width])
        hit.system = systems[system_id]
        hits.append(hit)
    return hits


# --- Words -----------------------------------------------------------------------------------

# Postgres's english configuration drops these words, so a query term made only of one would
# match nothing; they are left out before the query is built ("ct abdomen with contrast").
STOPWORD_TEXT = (
    "a about above after again against all am an and any are as at be because been before "
    "being below between both but by can did do does doing don down during each few for "
    "from further had has have having he her here hers herself him himself his how i if in "
    "into is it its itself just me more most my myself no nor not now of off on once only "
    "or other our ours ourselves out over own same she should so some such t than that the "
    "their theirs them themselves then there these they this those through to too under "
    "until up very was we were what when where which while who whom why will with you your "
    "yours yourself yourselves s"
)
STOPWORDS = frozenset(STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Term:
    """One typed word and what it may also mean (`inj` → injection)."""

    typed: str
    expansions: tuple[str, ...] = ()

    def tsquery(self, *, prefix: bool = False) -> Sql:
        """The word or any of its expansions; with `prefix`, also any word it begins."""
        parts = [Sql(f"plainto_tsquery('{CONFIG}', %s)", (piece,)) for piece in self.pieces]
        if prefix:
            for run in ALNUM_RUN.findall(self.typed):
                if len(run) >= 2:  # only letters and digits: safe in to_tsquery's syntax
                    parts.append(Sql(f"to_tsquery('{CONFIG}', %s)", (f"{run}:*",)))
        return _joined(parts, " || ")

    def official(self) -> Sql:
        """Whether the official descriptors (weights A and B) hold the word or an expansion.

        Plain words become weight-restricted terms (`fracture:AB`), which cost no more than
        any match; words with punctuation (l/s, i&d) cannot be written so in to_tsquery's
        syntax and are looked up in the vector cut to those weights instead.
        """
        if not all(PLAIN_WORDS.fullmatch(piece) for piece in self.pieces):
            return "ts_filter(c.search_vector, '{a,b}') @@ " + self.tsquery()
        weighted = [
            Sql(f"to_tsquery('{CONFIG}', %s)", (" & ".join(f"{w}:AB" for w in piece.split()),))
            for piece in self.pieces
        ]
        return "c.search_vector @@ " + _joined(weighted, " || ")

    @property
    def pieces(self) -> list[str]:
        return [self.typed, *self.expansions]

    @property
    def checkable(self) -> bool:
        """A plain word that may be a misspelling (abbreviations we know are not)."""
        return not self.expansions and self.typed.isalnum() and len(self.typed) >= 3


def _meaningful(text: str) -> bool:
    return any(run not in STOPWORDS for run in ALNUM_RUN.findall(text))


def terms_build(*, words: tuple[str, ...]) -> list[Term]:
    """Each word with its synonyms, one query; two-word synonyms (`office visit`) count too."""
    if not words:
        return []
    candidates = set(words) | {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}
    means: dict[str, list[str]] = {}  # what a typed abbreviation stands for
    abbreviated: dict[str, list[str]] = {}  # how descriptors abbreviate a typed word
    # Both ways: "inj" also means injection, and "injection" also finds the short
    # descriptors that abbreviate it to "inj" (the most telling field, weighted A).
    rows = SearchSynonym.objects.filter(Q(term__in=candidates) | Q(expansion__in=candidates))
    for term, expansion in rows.values_list("term", "expansion"):
        if term in candidates:
            means.setdefault(term, []).append(expansion)
        if expansion in candidates:
            abbreviated.setdefault(expansion, []).append(term)
    terms: list[Term] = []
    skip = False
    for a, b in zip(words, [*words[1:], None], strict=True):
        if skip:
            skip = False
            continue
        pair = f"{a} {b}" if b else None
        typed = pair if pair in means else a
        skip = typed == pair
        expansions = [e for e in means.get(typed, []) if _meaningful(e)]
        if means.get(typed) and not expansions:
            continue  # it stands for a word the text search ignores ("w/" for with)
        if not expansions and not _meaningful(typed):
            continue  # a word the text search ignores
        terms.append(Term(typed=typed, expansions=(*expansions, *abbreviated.get(typed, ()))))
    return terms


# Weights for D, C, B, A: a word in the official descriptors (A short, B medium and long) says
# what the code is; the same word in our explanation (C) often names a neighbouring code.
RANK_WEIGHTS = "'{0.01,0.05,0.5,1.0}'"


def _ranking(
    filters: SearchFilters,
    terms: list[Term],
    *,
    select: str,
    page: int,
    page_size: int,
    partial: bool = False,
    typing: bool = False,
) -> Sql:
    """The codes holding every word, best first: `select` columns of one page of them.

    First key: how many words the official descriptors themselves hold. It keeps a code that
    is what was asked for (lumbar facet injection: 64493) above one whose explanation merely
    mentions it (a diagnosis that supports the injection). With `partial`, codes holding all
    the words but one qualify too, and those holding more come first. With `typing`, the last
    word may be the beginning of one (as typed in the box so far).
    """
    queries = [term.tsquery(prefix=typing and term is terms[-1]) for term in terms]
    official = _joined(["(" + term.official() + ")::int" for term in terms], " + ")
    if partial:
        rests = [_joined(queries[:n] + queries[n + 1 :], " && ") for n in range(len(queries))]
        match = _joined(["c.search_vector @@ " + rest for rest in rests], " OR ")
        lexemes = _joined(queries, " || ")
        held = _joined(["(c.search_vector @@ " + query + ")::int" for query in queries], " + ")
        order = [held + " DESC", official + " DESC"]
    else:
        lexemes = _joined(queries, " && ")
        match = "c.search_vector @@ " + lexemes
        order = [official + " DESC"]
    rank = f"ts_rank({RANK_WEIGHTS}, c.search_vector, " + lexemes + ") DESC"
    return (
        f"SELECT {select}, count(*) OVER (), "
        + lexemes
        + f"::text FROM {FROM} WHERE "
        + _where(filters)
        + " AND "
        + match
        + " ORDER BY "
        + _listed([*order, rank])
        + Sql(f", {CODE_ORDER} LIMIT %s OFFSET %s", (page_size, (page - 1) * page_size))
    )


# One statement for the words of a query that found nothing: is each word in any code's text,
# and if not, the most alike word of the descriptors of codes whose short descriptor is spelled
# like it (trigram index, threshold set for this statement only), with what that word stands
# for when it is one of our abbreviations.
SPELLINGS_SQL = f"""
WITH checked AS MATERIALIZED (
    SELECT typed, EXISTS (
        SELECT 1 FROM {Code._meta.db_table}
        WHERE search_vector @@ plainto_tsquery('{CONFIG}', typed)
    ) AS known
    FROM (SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)) AS config,
         unnest(%s::text[]) AS typed
),
respelled AS MATERIALIZED (
    SELECT typed, known, CASE WHEN known THEN NULL ELSE (
        SELECT word FROM (
            SELECT split.word, count(*) AS uses FROM (
                SELECT regexp_split_to_table(
                    lower(c.short_descriptor || ' ' || c.long_descriptor), '[^a-z0-9]+'
                ) AS word
                FROM (
                    SELECT short_descriptor, long_descriptor FROM {Code._meta.db_table}
                    WHERE UPPER(short_descriptor) %%> upper(typed) LIMIT 100
                ) c
            ) split
            WHERE length(split.word) >= 3 AND split.word <> typed
            GROUP BY split.word
        ) words
        WHERE similarity(word, typed) >= 0.3
        -- alike first, then common: injecton is injection (used often), not injector
        ORDER BY similarity(word, typed) * (1 + ln(uses) / 10) DESC, word
        LIMIT 1
    ) END AS closest
    FROM checked
)
SELECT typed, known, closest, (
    SELECT string_agg(s.expansion, '|') FROM {SearchSynonym._meta.db_table} s
    WHERE s.term = closest
)
FROM respelled
"""
# Low enough for one wrong, missing or swapped letter in a short word (astma ~ asthma: 0.5),
# high enough that the trigram index hands back hundreds of candidates, not tens of thousands.
SPELLING_THRESHOLD = "0.5"


@dataclass(frozen=True)
class Spelling:
    typed: str
    known: bool
    closest: str | None
    expansions: tuple[str, ...] = ()


def spellings_check(*, words: list[str]) -> dict[str, Spelling]:
    """Which words some code holds, and the closest known spelling of the others."""
    words = list(dict.fromkeys(words))[:MAX_WORDS]
    if not words:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(SPELLINGS_SQL, [SPELLING_THRESHOLD, words])
        rows = cursor.fetchall()
    return {
        typed: Spelling(typed, known, closest, tuple(filter(None, (expansions or "").split("|"))))
        for typed, known, closest, expansions in rows
    }


LEXEME = re.compile(r"'((?:[^']|'')+)'")
HIGHLIGHT_WORD = re.compile(r"[A-Za-z0-9]+(?:[/&][A-Za-z0-9]+)*")
MAX_STEM_SUFFIX = 5  # english stems drop at most a few letters: inject|ion, evalu|ation


def lexemes_parse(*, tsquery: str) -> frozenset[str]:
    return frozenset(m.replace("''", "'") for m in LEXEME.findall(tsquery or ""))


def _lexeme_matches(word: str, lexemes: frozenset[str]) -> bool:
    for lexeme in lexemes:
        if word == lexeme:
            return True
        if (
            len(lexeme) >= 4
            and word.startswith(lexeme)
            and len(word) - len(lexeme) <= MAX_STEM_SUFFIX
        ):
            return True
        # stems spell a final y as i: "biopsi" for biopsy, "injuri" for injury
        if lexeme.endswith("i") and len(lexeme) >= 4 and word == lexeme[:-1] + "y":
            return True
    return False


def text_highlight(*, text: str, lexemes: frozenset[str]) -> SafeString:
    """`text`, escaped, with the words the query matched in <mark>."""
    if not lexemes or not text:
        return escape(text)
    parts: list[str] = []
    last = 0
    for match in HIGHLIGHT_WORD.finditer(text):
        if _lexeme_matches(match.group().lower(), lexemes):
            parts.append(escape(text[last : match.start()]))
            parts.append(f"<mark>{escape(match.group())}</mark>")
            last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # every piece was escaped above


# --- Running a search ------------------------------------------------------------------------

OutcomeKind = Literal[
    "empty",
    "blank",
    "redirect",
    "choices",
    "codes",
    "prefix",
    "range",
    "words",
    "corrected",
    "partial",
    "none",
]


@dataclass
class SearchOutcome:
    query: ParsedQuery
    filters: SearchFilters
    kind: OutcomeKind
    hits: list[Code] = field(default_factory=list)
    total: int = 0
    page: int = 1
    page_size: int = PAGE_SIZE
    redirect_to: str = ""
    searched_for: str = ""  # "corrected": the words searched instead of the typed ones
    spellings: list[str] = field(default_factory=list)  # close spellings of unmatched words
    near_codes: list[Code] = field(default_factory=list)  # codes spelled like a code query
    missing: list[str] = field(default_factory=list)  # "codes": keys not found

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def past_end(self) -> bool:
        return self.total > 0 and self.page > self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.page_size + 1

    @property
    def has_previous(self) -> bool:
        return 1 < self.page <= self.pages

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _page_of(
    filters: SearchFilters, terms: list[Term], *, page: int, page_size: int, partial: bool = False
) -> tuple[list[Code], int, frozenset[str]]:
    """One page of ranked codes, the count of them all, and the words matched.

    Ranking and counting run over ids alone, so a word that thousands of codes hold costs no
    wide rows; the page's codes are fetched by id in a second, small statement.
    """
    rows = _fetch(
        _ranking(filters, terms, select="c.id", page=page, page_size=page_size, partial=partial)
    )
    if not rows:
        if page == 1:
            return [], 0, frozenset()
        first = _fetch(
            _ranking(filters, terms, select="c.id", page=1, page_size=1, partial=partial)
        )
        return [], first[0][1] if first else 0, frozenset()  # past the end: say how many
    found = _codes(
        _fetch(Sql(f"SELECT {COLUMNS} FROM {FROM} WHERE c.id = ANY(%s)", ([r[0] for r in rows],)))
    )
    by_id = {hit.pk: hit for hit in found}
    hits = [by_id[row[0]] for row in rows if row[0] in by_id]
    return hits, rows[0][1], lexemes_parse(tsquery=rows[0][2] or "")


def _decorate(hits: list[Code], lexemes: frozenset[str] = frozenset()) -> list[Code]:
    """Give each hit its highlighted title and snippet (our own text, first sentence only)."""
    for hit in hits:
        hit.title_html = text_highlight(text=hit.short_descriptor, lexemes=lexemes)
        hit.snippet_html = text_highlight(text=hit.first_sentence(), lexemes=lexemes)
    return hits


def search_run(*, query: ParsedQuery, filters: SearchFilters, page: int = 1) -> SearchOutcome:
    """Answer one search with a handful of indexed statements (see bench/search.py)."""
    outcome = SearchOutcome(query=query, filters=filters, kind="none", page=page)
    if query.kind in ("empty", "blank"):
        if query.kind == "empty" and filters.narrowed:
            _listing(outcome, Sql(""), "prefix")
            return outcome
        outcome.kind = query.kind
        return outcome
    if query.kind == "code":
        return _code_search(outcome)
    if query.kind == "codes":
        found = _codes(
            _fetch(
                f"SELECT {COLUMNS} FROM {FROM} WHERE "
                + _where(filters, status=False)
                + Sql(f" AND c.key = ANY(%s) ORDER BY {CODE_ORDER}", (list(query.keys),))
            )
        )
        outcome.missing = sorted(set(query.keys) - {hit.key for hit in found})
        if found:
            outcome.kind, outcome.hits, outcome.total = "codes", _decorate(found), len(found)
        return outcome
    if query.kind == "range":
        _listing(outcome, _key_range(query.key, query.high), "range")
        return outcome
    return _words_search(outcome)


def _listing(
    outcome: SearchOutcome, condition: Sql, kind: OutcomeKind, *, exact_key: str = ""
) -> list[Code]:
    """Codes in code order: a page of them and their count in one statement (a key range).

    With `exact_key`, the same statement also brings the codes with exactly that key, of any
    status, which it returns; the page goes into `outcome`.
    """
    filters = outcome.filters
    where = _where(filters) + condition
    start = (outcome.page - 1) * outcome.page_size
    # The range is read once, narrow (ids, counted by a window), and only the page's rows
    # are fetched whole.
    statement = (
        f"(SELECT {COLUMNS}, page.found, FALSE FROM (SELECT c.id, count(*) OVER () AS found "
        f"FROM {FROM} WHERE "
        + where
        + Sql(f" ORDER BY {CODE_ORDER} LIMIT %s OFFSET %s", (outcome.page_size, start))
        + f") page JOIN {CODES} c ON c.id = page.id JOIN {SYSTEMS_TABLE} s ON s.id = c.system_id)"
    )
    if exact_key:
        statement = (
            f"(SELECT {COLUMNS}, NULL::bigint, TRUE FROM {FROM} WHERE "
            + _where(filters, status=False)
            + Sql(" AND c.key = %s) UNION ALL ", (exact_key,))
            + statement
        )
    rows = _fetch(statement)
    page = [row for row in rows if not row[-1]]
    total = page[0][-2] if page else 0
    if not page and outcome.page > 1:  # past the end: still say how many there are
        total = _fetch(f"SELECT count(*) FROM {FROM} WHERE " + where)[0][0]
    hits = sorted(_codes(page), key=_code_order)
    outcome.hits, outcome.total = _decorate(hits), total
    outcome.kind = kind if total else "none"
    return _codes([row for row in rows if row[-1]])


def _code_order(hit: Code) -> tuple[int, str, str]:
    return hit.system.sort, hit.system.slug, hit.key


def _code_search(outcome: SearchOutcome) -> SearchOutcome:
    query, filters = outcome.query, outcome.filters
    # An exact code goes to its page whatever its status (a deleted code's page says so);
    # one statement brings it and the first page of the codes that begin with it. Only a
    # spelling some system accepts as a whole code is looked for (not 6449 or J1).
    whole = any(spelling.canonical(query.spelling) for spelling in SYSTEMS.values())
    listed = SearchOutcome(query=query, filters=filters, kind="none", page=outcome.page)
    found = _listing(
        listed, _key_range(query.key, query.key), "prefix", exact_key=query.key if whole else ""
    )
    spelled = [hit for hit in found if hit.code.upper() == query.spelling]
    winners = spelled or found
    if len(winners) == 1 and winners[0].is_billable:
        outcome.kind, outcome.redirect_to = "redirect", winners[0].get_absolute_url()
        return outcome
    if len(winners) > 1:
        winners.sort(key=_code_order)
        outcome.kind, outcome.hits, outcome.total = "choices", _decorate(winners), len(winners)
        return outcome
    if listed.total:
        return listed
    # Nothing starts so: the "code" may be a word after all (b12, covid19).
    words = _words_search(SearchOutcome(query=query, filters=filters, kind="none", page=1))
    if words.total:
        return words
    outcome.near_codes = near_matches(
        system=CodeSystem.objects.filter(slug=filters.system).first() if filters.system else None,
        raw=query.key,
    )
    return outcome


def _words_search(outcome: SearchOutcome) -> SearchOutcome:
    """Every word; else the words respelled; else all the words but one."""
    terms = terms_build(words=outcome.query.words)
    if not terms:
        return outcome
    filters = outcome.filters
    pager = {"page": outcome.page, "page_size": outcome.page_size}
    hits, total, lexemes = _page_of(filters, terms, **pager)
    kind: OutcomeKind = "words"
    if not total:
        spellings = spellings_check(words=[t.typed for t in terms if t.checkable])
        respelled = _respelled(terms, spellings)
        if respelled != terms and respelled:
            hits, total, lexemes = _page_of(filters, respelled, **pager)
            kind, outcome.searched_for = "corrected", " ".join(t.typed for t in respelled)
        if not total and len(respelled) > 1:
            hits, total, lexemes = _page_of(filters, respelled, partial=True, **pager)
            kind = "partial"
        if not total:
            outcome.spellings = [s.closest for s in spellings.values() if s.closest]
    outcome.hits, outcome.total = _decorate(hits, lexemes), total
    if total:
        outcome.kind = kind
    return outcome


def _respelled(terms: list[Term], spellings: dict[str, Spelling]) -> list[Term]:
    """The terms with each word no code holds replaced by its closest spelling (or dropped)."""
    respelled = []
    for term in terms:
        spelling = spellings.get(term.typed)
        if spelling is None or spelling.known:
            respelled.append(term)
        elif spelling.closest:
            respelled.append(Term(typed=spelling.closest, expansions=spelling.expansions))
    return respelled


# --- Autocomplete -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    code: str
    system: str
    title: str
    url: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "system": self.system, "title": self.title, "url": self.url}


def suggestions_for(*, raw: str, limit: int = SUGGEST_LIMIT) -> list[Suggestion]:
    """Codes to offer while a query is typed: by code beginning, or by words, the last one
    taken as the beginning of a word. Two statements at most (synonyms, codes)."""
    query = query_parse(raw=raw)
    active = SearchFilters()
    listed = Sql(f" ORDER BY {CODE_ORDER} LIMIT %s", (limit,))
    if query.kind == "code":
        hits = _codes(
            _fetch(
                f"SELECT {COLUMNS} FROM {FROM} WHERE "
                + _where(active)
                + _key_range(query.key, query.key)
                + listed
            )
        )
        if hits or not query.words:
            return [_suggestion(hit) for hit in hits]
    if query.kind == "range":
        condition = _key_range(query.key, query.high)
        return [
            _suggestion(hit)
            for hit in _codes(
                _fetch(f"SELECT {COLUMNS} FROM {FROM} WHERE " + _where(active) + condition + listed)
            )
        ]
    if query.kind == "codes":
        condition = Sql(" AND c.key = ANY(%s)", (list(query.keys),))
        return [
            _suggestion(hit)
            for hit in _codes(
                _fetch(f"SELECT {COLUMNS} FROM {FROM} WHERE " + _where(active) + condition + listed)
            )
        ]
    terms = terms_build(words=query.words)
    if not terms:
        return []
    rows = _fetch(_ranking(active, terms, select=COLUMNS, page=1, page_size=limit, typing=True))
    return [_suggestion(hit) for hit in _codes(rows)]


def _suggestion(hit: Code) -> Suggestion:
    return Suggestion(
        code=hit.code,
        system=hit.system.short_name,
        title=hit.short_descriptor,
        url=hit.get_absolute_url(),
    )


# --- Browse ---------------------------------------------------------------------------------

BROWSE_PAGE_SIZE = 100

BRANCH_COUNTS_SQL = f"""
WITH RECURSIVE tree(id, branch) AS (
    SELECT id, id FROM {CodeGroup._meta.db_table} WHERE id = ANY(%s::bigint[])
    UNION ALL
    SELECT g.id, tree.branch FROM {CodeGroup._meta.db_table} g JOIN tree ON g.parent_id = tree.id
)
SELECT tree.branch, sum(counted.n)::bigint
FROM tree JOIN (
    SELECT group_id, count(*) AS n FROM {Code._meta.db_table}
    WHERE status = %s AND group_id IN (SELECT id FROM tree)
    GROUP BY group_id
) counted ON counted.group_id = tree.id
GROUP BY tree.branch
"""
# Counting a whole code set (ICD-10-CM: some 98,000 codes) takes a hundred milliseconds or more,
# so counts that large are kept in the shared cache for a while; after an import the browse
# pages may show the previous counts for up to BIG_BRANCH_SECONDS.
BIG_BRANCH_CODES = 20_000
BIG_BRANCH_SECONDS = 600


def branch_counts(*, group_ids: list[int]) -> dict[int, int]:
    """Active codes under each group, its whole subtree included, in one query."""
    if not group_ids:
        return {}
    ids = ",".join(str(pk) for pk in sorted(group_ids))
    key = f"case2code:branch-counts:{hashlib.sha256(ids.encode()).hexdigest()[:32]}"
    counts = cache.get(key)
    if counts is not None:
        return counts
    with connection.cursor() as cursor:
        cursor.execute(BRANCH_COUNTS_SQL, [group_ids, Code.Status.ACTIVE])
        counts = dict(cursor.fetchall())
    if sum(counts.values()) >= BIG_BRANCH_CODES:
        cache.set(key, counts, BIG_BRANCH_SECONDS)
    return counts


@dataclass
class SystemBrowse:
    groups: list[CodeGroup]  # the roots, each with `code_count`
    active_codes: int
    ungrouped: int  # active codes not filed under any group yet


def system_browse(*, system: CodeSystem) -> SystemBrowse:
    """The top of a system's tree with active code counts: three queries."""
    groups = list(system.groups.roots().order_by("sort_key", "title"))
    counts = branch_counts(group_ids=[group.pk for group in groups])
    for group in groups:
        group.system = system
        group.code_count = counts.get(group.pk, 0)
    # Every grouped code sits under one root, so the roots' counts add up to them all; the
    # ungrouped ones are found through the group index without reading the rest.
    ungrouped = system.codes.active().filter(group__isnull=True).count()
    return SystemBrowse(groups, sum(counts.values()) + ungrouped, ungrouped)


@dataclass
class GroupBrowse:
    children: list[CodeGroup]  # each with `code_count`
    code_count: int  # active codes in the group's whole subtree
    codes: list[Code]  # this page of the codes filed directly under the group
    total: int  # codes filed directly under the group, deleted ones included
    page: int
    page_size: int = BROWSE_PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def past_end(self) -> bool:
        return self.page > self.pages


def group_browse(*, group: CodeGroup, page: int = 1) -> GroupBrowse:
    """A group's children and one page of its own codes, with counts: three queries."""
    children = list(group.children.order_by("sort_key", "title"))
    counts = branch_counts(group_ids=[group.pk, *(child.pk for child in children)])
    for child in children:
        child.system = group.system
        child.code_count = counts.get(child.pk, 0)
    start = (page - 1) * BROWSE_PAGE_SIZE
    codes = list(
        group.codes.only(
            "id", "code", "key", "short_descriptor", "status", "is_addon", "system_id", "group_id"
        )
        .annotate(found=Window(Count("id")))
        .order_by("key")[start : start + BROWSE_PAGE_SIZE]
    )
    for code in codes:
        code.system = group.system
    total = codes[0].found if codes else 0
    if not codes and page > 1:
        total = group.codes.count()
    return GroupBrowse(children, counts.get(group.pk, 0), codes, total, page)
