"""CasePilot's rules: a question in, an answer made of facts from our own tables out.

Every fact carries the link to where it stands (a code page section, a modifier page) and the
edition of the data it came from. Codes enter an answer only from rows fetched here; a quoted
passage that names a code we do not hold is cut (`_vet`), so an answer never names a code that
is not in our tables. What a guest may read follows what the code page shows a guest: code,
short descriptor, status, add-on and family links, modifier names. Everything else invites them
to register.

Edits and MUEs come from `codes.edits` (the claim check's engine), payment by locality from
`codes.payment`, sections from `codes.knowledge`, Case2Code results from `codes.search`;
nothing here re-derives them.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

from django.db.models import BooleanField, F, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.urls import reverse

from codes import search as case2code
from codes.edits import (
    NCCI_ASSOCIATED_MODIFIERS,
    PtpEdit,
    mue_limits,
    ptp_edits_among,
    ptp_edits_with,
)
from codes.knowledge import (
    MUE_MEANINGS,
    NCCI_INDICATOR_MEANINGS,
    STATUS_MEANINGS,
    NcciPair,
    coverage_as_of,
    crosswalk_for_code,
    facts_derive,
    history_by_year,
    modifiers_derive,
    modifiers_for_code,
)
from codes.models import Code, CodeGroup, CodeModifier, Guideline, Locality, Modifier, RvuLine
from codes.normalize import SYSTEMS
from codes.payment import LinePrice, PriceRequest, locality_search, price_lines

MAX_QUESTION_LENGTH = 1000
NOT_IN_DATA = "I don't have an answer to that in our data."

# A code as it may stand in text: CPT (five characters), HCPCS (letter and four digits),
# ICD-10-CM (letter, two characters, an optional dot and more). Used to vet every answer.
CODE_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9.])(?:\d{4}[0-9A-Z]|[A-Z]\d{4}|[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)"
    r"(?![A-Za-z0-9])"
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# --- Reading the question ----------------------------------------------------------------------

KEYWORDS: dict[str, tuple[str, ...]] = {
    "compare": ("vs", "versus", "compare", "comparison", "difference", "differ"),
    "ncci": (
        "bundle",
        "bundled",
        "bundling",
        "ncci",
        "ptp",
        "together",
        "unbundle",
        "column",
        "edit",
        "edits",
    ),
    "mue": ("units", "unit", "mue", "mues", "maximum", "max", "limit"),
    "modifiers": ("modifier", "modifiers", "mod", "mods", "bilateral", "append"),
    "guidelines": (
        "guideline",
        "guidelines",
        "guidance",
        "tips",
        "document",
        "documentation",
        "count",
        "how",
    ),
    "crosswalk": ("diagnosis", "diagnoses", "icd", "icd-10", "icd-10-cm", "crosswalk", "dx"),
    "payment": (
        "pay",
        "pays",
        "paid",
        "payment",
        "reimburse",
        "reimbursement",
        "rvu",
        "rvus",
        "fee",
        "much",
        "rate",
        "allowable",
    ),
    "coverage": ("covered", "cover", "coverage", "lcd", "ncd", "lcds", "ncds", "medically"),
    "history": ("added", "history", "deleted", "introduced", "created", "revised", "new", "when"),
}
# Words that say what kind of question it is, not what it is about.
QUESTION_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "code",
        "codes",
        "cpt",
        "do",
        "does",
        "for",
        "from",
        "guideline",
        "guidelines",
        "hcpcs",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "of",
        "on",
        "or",
        "please",
        "should",
        "tell",
        "the",
        "this",
        "to",
        "use",
        "what",
        "when",
        "which",
        "with",
        "you",
        "my",
        "we",
        "our",
        "about",
    ]
)
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
NAMED_DATE = re.compile(r"\b([a-z]{3,9})\.? (\d{1,2}),? (\d{4})\b", re.IGNORECASE)
YEAR = re.compile(r"\b(?:in|for|during|of|year)\s+(\d{4})\b")
LOCALITY = re.compile(r"\bin ([A-Z][A-Za-z.]+(?: [A-Z][A-Za-z.]+)*)")
# "… in manhattan?" typed in lower case: a place only at the very end of the question.
LOCALITY_TAIL = re.compile(r"\bin ([a-z][a-z.]+(?: [a-z][a-z.]+){0,3})\s*[?.!]*\s*$")
# Words around a place name that no locality is named by.
PLACE_NOISE = frozenset(
    ["the", "county", "cnty", "city", "area", "locality", "state", "medicare", "cpt", "hcpcs"]
)
CODE_WITH_MODIFIER = re.compile(r"^(.+?)-([0-9A-Za-z]{2})$")
TOKEN_EDGE = "\"'.,;:!?()[]{}<>«»“”‘’¿¡"


@dataclass(frozen=True)
class Reading:
    """What a question asks: its kind, the codes and modifiers it names, the date of service."""

    kind: str
    keys: tuple[str, ...]  # code keys as typed, in order (known or not)
    dotted: frozenset[str]  # keys typed with a dot: ICD-10-CM
    modifiers: tuple[str, ...]  # two-character tokens that may be modifiers
    dos: datetime.date
    dos_named: bool
    words: tuple[str, ...]  # the words the question is about
    locality: str


def _date_named(text: str, today: datetime.date) -> datetime.date | None:
    lowered = text.lower()
    for pattern, order in ((US_DATE, "mdy"), (ISO_DATE, "ymd")):
        found = pattern.search(lowered)
        if found:
            parts = dict(zip(order, (int(part) for part in found.groups()), strict=True))
            try:
                return datetime.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                continue
    found = NAMED_DATE.search(lowered)
    if found and found.group(1) in MONTHS:
        try:
            return datetime.date(int(found.group(3)), MONTHS[found.group(1)], int(found.group(2)))
        except ValueError:
            pass
    found = YEAR.search(lowered)
    if found:
        year = int(found.group(1))
        if 1990 <= year <= today.year + 1:
            # The annual code sets and fee schedule take effect on January 1; this year means today.
            return today if year == today.year else datetime.date(year, 1, 1)
    return None


HTML_TAG = re.compile(r"<[^>]{0,200}>")


def question_read(*, text: str, today: datetime.date, has_context: bool = False) -> Reading:
    """The kind of question, its codes, modifiers, words and date of service. `has_context`
    says that the question is asked about a code (on its page, or in a conversation)."""
    text = HTML_TAG.sub(" ", unicodedata.normalize("NFKC", text))
    named = _date_named(text, today)
    for pattern in (US_DATE, ISO_DATE, NAMED_DATE):
        text = pattern.sub(" ", text) if named else text
    keys: list[str] = []
    dotted: set[str] = set()
    modifiers: list[str] = []
    words: list[str] = []
    tokens = text.split()
    for index, raw in enumerate(tokens):
        token = raw.strip(TOKEN_EDGE)
        if not token or "/" in token:
            continue
        paired = CODE_WITH_MODIFIER.match(token)
        if paired and case2code.code_token_key(paired.group(1)):
            token, modifier = paired.group(1), paired.group(2).upper()
            modifiers.append(modifier)
        key = case2code.code_token_key(token) if any(ch.isdigit() for ch in token) else None
        if key:
            keys.append(key)
            if "." in token:
                dotted.add(key)
            continue
        previous = tokens[index - 1].strip(TOKEN_EDGE).lower() if index else ""
        # 59, XS: a modifier when it has a digit, is typed in capitals, or follows "modifier".
        if (
            len(token) == 2
            and token.isalnum()
            and token.isascii()
            and (
                any(ch.isdigit() for ch in token)
                or token.isupper()
                or previous in ("modifier", "mod")
            )
        ):
            modifiers.append(token.upper())
            continue
        word = token.lower()
        if any(ch.isalnum() for ch in word):
            words.append(word)
    locality = LOCALITY.search(text)
    reading_words = tuple(words)
    kind = _kind(set(reading_words), keys=keys, modifiers=modifiers, has_context=has_context)
    place = ""
    if locality and locality.group(1).lower() not in MONTHS:
        place = locality.group(1)
    tail = LOCALITY_TAIL.search(text) if not place else None
    if tail and tail.group(1).split()[0] not in MONTHS:
        place = tail.group(1)
    return Reading(
        kind=kind,
        keys=tuple(dict.fromkeys(keys)),
        dotted=frozenset(dotted),
        modifiers=tuple(dict.fromkeys(modifiers)),
        dos=named or today,
        dos_named=named is not None,
        words=reading_words,
        locality=place,
    )


def _kind(words: set[str], *, keys: list[str], modifiers: list[str], has_context: bool) -> str:
    def says(kind: str) -> bool:
        return bool(words & set(KEYWORDS[kind]))

    # "Can I bill it with 77003?" on a code's page is about two codes.
    several = len(set(keys)) + (1 if has_context and keys else 0) >= 2
    if several and says("compare"):
        return "compare"
    if several and (says("ncci") or words & {"with", "and", "same", "bill"}):
        return "ncci"
    if says("mue") and words & {"many", "units", "unit", "mue", "mues", "maximum", "max"}:
        return "mue"
    if says("ncci"):
        return "ncci"
    if says("modifiers"):
        return "modifiers"
    if says("crosswalk") or words & {"support", "supports"}:
        return "crosswalk"
    if says("payment"):
        return "payment"
    if says("coverage"):
        return "coverage"
    if says("history") and (
        words & {"when", "history", "added", "deleted", "introduced", "revised"}
    ):
        return "history"
    if modifiers:
        return "modifiers"
    if says("guidelines"):
        return "guidelines"
    if several:
        return "compare"
    if keys:
        return "code"
    return "guidelines"  # words alone: the best guideline passages, or nothing


# --- The answer ------------------------------------------------------------------------------


@dataclass
class Fact:
    text: str
    url: str
    source: str  # where it stands, as a link label
    edition: str
    codes: list[str] = field(default_factory=list)


@dataclass
class Hit:
    code: str
    short: str
    url: str


@dataclass
class Answer:
    kind: str
    heading: str
    facts: list[Fact] = field(default_factory=list)
    answered: bool = True
    code_id: int | None = None  # the code the answer is about: the conversation's context
    dos: str = ""
    dos_named: bool = False
    invite: str = ""  # a guest's invitation to register, naming what it would show
    notes: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    summary: list[dict] = field(default_factory=list)  # the model's cited sentences
    model_status: str = ""  # "", "used" or "unavailable"

    def as_dict(self) -> dict:
        return asdict(self)


SECTION_LABELS = {
    "guidelines": "Coding Guidelines and Tips",
    "modifiers": "Modifiers",
    "crosswalk": "ICD-10-CM Crosswalk",
    "ncci": "NCCI Edits and MUE",
    "payment": "RVUs and Medicare Payment",
    "coverage": "Medicare Coverage",
    "history": "History and Related Codes",
    "plain": "Common Language Description",
    "official": "Official Description",
}
GUEST_INVITES = {
    "compare": "relative values and Medicare payment",
    "guidelines": "coding guidelines",
    "modifiers": "what the fee schedule indicators and NCCI edits say about modifiers",
    "crosswalk": "the ICD-10-CM crosswalk",
    "ncci": "NCCI edits",
    "mue": "MUE limits",
    "payment": "relative values and Medicare payment",
    "coverage": "Medicare coverage references",
    "history": "code history",
}


def _code_url(code: Code, *, section: str = "", dos: datetime.date | None = None) -> str:
    url = code.get_absolute_url()
    if dos is not None:
        url += "?" + urlencode({"dos": dos.isoformat()})
    return url + (f"#{section}" if section else "")


def _source(code: Code, section: str = "") -> str:
    label = f"{code.system.short_name} {code.code}"
    return f"{label} · {SECTION_LABELS[section]}" if section else label


def _system_edition(code: Code) -> str:
    return f"{code.system.short_name} {code.system.edition}".strip()


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    parts = SENTENCE_END.split(text, maxsplit=1)
    return parts[0] if parts else ""


class _Lookup:
    """The rows one answer fetched; the codes they hold are the only ones it may name."""

    def __init__(self, *, reading: Reading, context: Code | None) -> None:
        self.reading = reading
        self.known: set[str] = set()
        self.codes: dict[str, Code] = {}
        self.unknown: list[str] = []
        keys = list(reading.keys)
        if keys:
            found: dict[str, list[Code]] = {}
            # Naming the systems lets Postgres use the (system, key) index.
            rows = Code.objects.select_related("system", "group").filter(
                system__slug__in=list(SYSTEMS), key__in=keys
            )
            for code in rows:
                found.setdefault(code.key, []).append(code)
            for key in keys:
                # J11.00 (typed with a dot) is ICD-10-CM; J1100 is HCPCS: prefer as typed.
                choices = sorted(
                    found.get(key, []),
                    key=lambda c: (c.system.slug == "icd10cm") != (key in reading.dotted),
                )
                if choices:
                    self.codes[key] = choices[0]
                else:
                    self.unknown.append(key)
        if context is not None and context.key not in self.codes:
            self.context = context
        else:
            self.context = None
        for code in self.all_codes:
            self.known.add(code.key)

    @property
    def all_codes(self) -> list[Code]:
        codes = list(self.codes.values())
        if self.context is not None:
            codes.append(self.context)
        return codes

    @property
    def subject(self) -> Code | None:
        """The code the question is about: the first one it names, or the context's."""
        named = list(self.codes.values())
        if named:
            return named[0]
        return self.context


def answer_build(
    *,
    text: str,
    today: datetime.date,
    sections: bool,
    context: Code | None = None,
) -> Answer:
    """Answer `text` from our tables. `sections` says whether the viewer may read the code page
    sections (an account); `context` is the code of the page or conversation it was asked on."""
    reading = question_read(text=text, today=today, has_context=context is not None)
    lookup = _Lookup(reading=reading, context=context)
    builder = BUILDERS.get(reading.kind, _answer_code)
    answer = builder(reading, lookup, sections)
    answer.dos = reading.dos.isoformat()
    answer.dos_named = reading.dos_named
    if any(key not in lookup.known for key in lookup.unknown) and answer.answered:
        answer.notes.append(
            "One or more codes in the question are not in our tables; the answer leaves them out."
        )
    if not answer.facts and not answer.invite:
        _not_answered(answer, reading)
    _vet(answer, lookup.known)
    if answer.code_id is None and lookup.subject is not None:
        answer.code_id = lookup.subject.pk
    return answer


def _invite(kind: str, subject: Code | None) -> str:
    what = GUEST_INVITES.get(kind, "this")
    about = f" for {subject.code}" if subject is not None else ""
    return f"Create a free account to see {what}{about}: CasePilot answers it from the code page."


INTENT_WORDS = frozenset(word for words in KEYWORDS.values() for word in words)


def _not_answered(answer: Answer, reading: Reading) -> None:
    """No guess: say so, and offer the Case2Code results for the words that say what the
    question is about (not "what is", not a code we do not hold)."""
    answer.answered = False
    answer.kind = "unanswered"
    answer.heading = NOT_IN_DATA
    answer.facts = []
    words = [w for w in reading.words if w not in QUESTION_WORDS and w not in INTENT_WORDS]
    if not words:
        return
    try:
        query = case2code.query_parse(raw=" ".join(words[:8])[:200])
    except case2code.QueryRejected:
        return
    if query.kind in ("empty", "blank"):
        return
    outcome = case2code.search_run(query=query, filters=case2code.filters_parse())
    answer.hits = [
        Hit(code=hit.code, short=hit.short_descriptor, url=hit.get_absolute_url())
        for hit in outcome.hits[:5]
    ]


# --- One builder per kind --------------------------------------------------------------------


def _code_facts(code: Code, *, sections: bool, primaries: list[Code]) -> list[Fact]:
    edition = _system_edition(code)
    facts = [
        Fact(
            text=f"{code.system.short_name} {code.code}: {code.short_descriptor}.",
            url=_code_url(code),
            source=_source(code),
            edition=edition,
            codes=[code.key],
        )
    ]
    if code.is_deleted:
        status = "Deleted" + (f" on {code.end_date.isoformat()}" if code.end_date else "") + "."
    else:
        status = "Active" + (
            f" since {code.effective_date.isoformat()}." if code.effective_date else "."
        )
    facts.append(Fact(status, _code_url(code), _source(code), edition, [code.key]))
    if code.is_addon:
        listed = ", ".join(primary.code for primary in primaries)
        facts.append(
            Fact(
                f"{code.code} is an add-on code"
                + (f", reported in addition to {listed}." if listed else "."),
                _code_url(code),
                _source(code),
                edition,
                [code.key, *(primary.key for primary in primaries)],
            )
        )
    if code.group is not None:
        group: CodeGroup = code.group
        facts.append(
            Fact(
                f"Family: {group.title}"
                + (f" ({group.range_label})." if group.range_label else "."),
                group.get_absolute_url(),
                f"{code.system.short_name} · {group.title}",
                edition,
                [],
            )
        )
    if sections and code.plain_language:
        facts.append(
            Fact(
                code.first_sentence(),
                _code_url(code, section="plain"),
                _source(code, "plain"),
                "CasePilot editors",
                [code.key],
            )
        )
    return facts


def _primaries(codes: list[Code]) -> dict[int, list[Code]]:
    addons = [code.pk for code in codes if code.is_addon]
    if not addons:
        return {}
    links = Code.primary_codes.through.objects.filter(from_code_id__in=addons).select_related(
        "to_code"
    )
    found: dict[int, list[Code]] = {}
    for link in links:
        found.setdefault(link.from_code_id, []).append(link.to_code)
    return found


def _answer_code(reading: Reading, lookup: _Lookup, sections: bool) -> Answer:
    codes = list(lookup.codes.values()) or ([lookup.context] if lookup.context else [])
    answer = Answer(kind="code", heading="")
    if not codes:
        return answer
    primaries = _primaries(codes)
    for code in codes[:4]:
        for primary in primaries.get(code.pk, []):
            lookup.known.add(primary.key)
        answer.facts += _code_facts(code, sections=sections, primaries=primaries.get(code.pk, []))
    answer.heading = ", ".join(f"{c.system.short_name} {c.code}" for c in codes[:4])
    answer.code_id = codes[0].pk
    return answer


def locality_named(place: str) -> tuple[Locality | None, str]:
    """The Medicare locality a question names ("in Manhattan", "in Ohio", "in Cook county"),
    and a note when it names none or several (one query). A name that is exactly one
    locality's wins over the others it is part of: Chicago, not Suburban Chicago."""
    words = [w for w in place.split() if w.lower().strip(".") not in PLACE_NOISE]
    if not words:
        return None, ""
    wanted = " ".join(words)
    if len(wanted) == 2 and wanted.isupper():
        # NY is a state, not every name with "ny" in it (the file's "CNTY").
        found = list(Locality.objects.filter(state=wanted, gpcis__isnull=False).distinct())
    else:
        found = locality_search(text=wanted)
    exact = [x for x in found if x.name.upper() == wanted.upper()]
    if len(found) == 1 or len(exact) == 1:
        return (exact or found)[0], ""
    if not found:
        if not place[:1].isupper():  # "… in the office": not a place at all
            return None, ""
        return None, (
            f"No Medicare locality on file matches “{place}”; these are national amounts. "
            "Name a state, a county or a locality such as Manhattan."
        )
    names = ", ".join(x.label for x in found[:8]) + (", …" if len(found) > 8 else "")
    return None, (
        f"“{place}” matches {len(found)} Medicare localities ({names}); these are national "
        "amounts. Name one of them for its amounts."
    )


def payment_lookup(
    *, keys: list[str], dos: datetime.date, locality: Locality | None = None
) -> dict[str, LinePrice]:
    """Each code's Medicare payment on the date of service in the locality (None: national),
    each code on its own: the one place CasePilot prices a code. One query for the fee
    schedule lines, one for the locality's GPCIs."""
    rows = list(RvuLine.objects.filter(code__in=keys))
    held = sorted({row.code for row in rows})
    requests = [PriceRequest(key) for key in held]
    prices = price_lines(requests, day=dos, locality=locality, rvu_lines=rows, same_claim=False)
    return {price.request.code: price for price in prices}


def _pfs_edition(line: RvuLine) -> str:
    """ "PFS 2023-JAN release"; a release label without its year gets it."""
    label = line.edition if str(line.year) in line.edition else f"{line.year} {line.edition}"
    return f"PFS {label} release"


def _payment_url(code: Code, *, dos: datetime.date, locality: Locality | None) -> str:
    """The code page's payment section on the date, in the locality the answer priced in (or
    nationally, whatever the reader's account has chosen): it shows the answer's figures."""
    query = {"dos": dos.isoformat(), "locality": locality.key if locality else "national"}
    return f"{code.get_absolute_url()}?{urlencode(query)}#payment"


def _payment_fact(code: Code, price: LinePrice, dos: datetime.date) -> Fact | None:
    line, locality = price.line, price.locality
    if line is None:
        return None
    edition = _pfs_edition(line)
    if price.gpci is not None:
        edition += f"; GPCIs {price.gpci.edition}"
    if price.refusal:
        if line.status_code and line.status_code not in {"A", "R", "T"}:
            meaning = STATUS_MEANINGS.get(line.status_code, "")
            text = (
                f"{code.code}: no fee schedule amount — status {line.status_code}: "
                f"{meaning or 'the fee schedule does not price this code.'}"
            )
        else:
            text = f"{code.code}: {price.refusal}"
    elif locality is None:
        parts = []
        if price.nonfacility is not None:
            parts.append(
                f"non-facility {line.nonfacility_total} RVUs, ${price.nonfacility.participating}"
            )
        if price.facility is not None:
            parts.append(f"facility {line.facility_total} RVUs, ${price.facility.participating}")
        text = (
            f"{code.code} national Medicare payment: {'; '.join(parts)} "
            f"(conversion factor ${line.conversion_factor})."
        )
    else:
        parts = []
        for name, amounts in (("non-facility", price.nonfacility), ("facility", price.facility)):
            if amounts is not None:
                parts.append(
                    f"{name} ${amounts.participating} (limiting charge ${amounts.limiting_charge})"
                )
        text = (
            f"{code.code} Medicare payment in {locality.label}: {'; '.join(parts)}, "
            f"participating amounts with the {price.gpci_year} GPCIs and conversion factor "
            f"${line.conversion_factor}."
        )
    if not price.release_in_force:
        text += " The date of service is before the oldest release on file; this is that release."
    return Fact(
        text,
        _payment_url(code, dos=dos, locality=locality),
        _source(code, "payment"),
        edition,
        [code.key],
    )


def _payment_facts(
    answer: Answer, codes: list[Code], *, reading: Reading, locality: Locality | None
) -> None:
    prices = payment_lookup(keys=[c.key for c in codes], dos=reading.dos, locality=locality)
    for code in codes:
        fact = _payment_fact(code, prices[code.key], reading.dos) if code.key in prices else None
        if fact is not None:
            answer.facts.append(fact)


def _answer_compare(reading: Reading, lookup: _Lookup, sections: bool) -> Answer:
    codes = list(lookup.codes.values())[:4]
    answer = Answer(kind="compare", heading=" vs ".join(c.code for c in codes))
    if len(codes) < 2:
        return _answer_code(reading, lookup, sections)
    for code in codes:
        answer.facts.append(
            Fact(
                f"{code.system.short_name} {code.code}: {code.short_descriptor}"
                + (" (deleted)." if code.is_deleted else "."),
                _code_url(code),
                _source(code),
                _system_edition(code),
                [code.key],
            )
        )
    if not sections:
        answer.invite = _invite("compare", None)
        return answer
    locality, note = locality_named(reading.locality) if reading.locality else (None, "")
    _payment_facts(answer, codes, reading=reading, locality=locality)
    if note and answer.facts:
        answer.notes.append(note)
    answer.code_id = codes[0].pk
    return answer


def _guideline_words(reading: Reading) -> list[str]:
    words = []
    for word in reading.words:
        cleaned = re.sub(r"[^a-z0-9/]", "", word)
        if cleaned and cleaned not in QUESTION_WORDS and len(cleaned) > 1:
            words.append(cleaned)
    return words[:12]


def _answer_guidelines(reading: Reading, lookup: _Lookup, sections: bool) -> Answer:
    subject = lookup.subject
    answer = Answer(kind="guidelines", heading="Guidelines")
    words = _guideline_words(reading)
    if not words and subject is None:
        return answer
    if not sections:
        answer.invite = _invite("guidelines", subject)
        return answer
    # Full-text search over the editors' guidelines; the code's own and its family's rank first.
    lineage = []
    if subject is not None and subject.group_id:
        lineage = [group.pk for group in CodeGroup.objects.chain_to(subject.group_id)]
    # About a code: any of the words, the family first. About no code: all of them, or nothing
    # (a passage that shares one word with "write me a poem about billing" is a guess).
    joiner = " | " if subject is not None else " & "
    parts = [re.sub(r"[^a-z0-9/]", " ", w).strip().replace(" ", " & ") for w in words]
    query = joiner.join(f"({part})" for part in parts if part)
    document = "to_tsvector('english', codes_guideline.title || ' ' || codes_guideline.body)"
    rank = RawSQL(f"ts_rank({document}, to_tsquery('english', %s))", (query or "x",))
    matches = RawSQL(
        f"{document} @@ to_tsquery('english', %s)", (query or "x",), output_field=BooleanField()
    )
    family = Q(code_id=subject.pk) | Q(group_id__in=lineage) if subject is not None else Q()
    first = Code.objects.filter(group_id=OuterRef("group_id")).order_by("status", "key")
    found = (
        Guideline.objects.annotate(
            rank=rank,
            group_code=Subquery(first.values("key")[:1]),
            group_code_system=Subquery(first.values("system__slug")[:1]),
        )
        .select_related("code__system")
        .filter(family if not words else Q(matches) & (family if subject is not None else Q()))
        .order_by(F("rank").desc(), "sort", "id")[:3]
    )
    if subject is not None and not found and words:
        found = (
            Guideline.objects.annotate(
                rank=rank,
                group_code=Subquery(first.values("key")[:1]),
                group_code_system=Subquery(first.values("system__slug")[:1]),
            )
            .select_related("code__system")
            .filter(matches)
            .order_by(F("rank").desc(), "sort", "id")[:3]
        )
    for guideline in found:
        code = guideline.code
        if code is None and subject is not None and guideline.group_id in lineage:
            code = subject
        if code is not None:
            url, source = _code_url(code, section="guidelines"), _source(code, "guidelines")
            lookup.known.add(code.key)
        elif guideline.group_code:
            prefix = SYSTEMS[guideline.group_code_system].url_prefix
            url = reverse(
                "codes:code_detail", kwargs={"system": prefix, "code": guideline.group_code}
            )
            url += "#guidelines"
            source = f"{guideline.group_code} · Coding Guidelines and Tips"
            lookup.known.add(guideline.group_code.replace(".", ""))
        else:
            continue
        answer.facts.append(
            Fact(
                f"{guideline.title}: {_first_sentence(guideline.body)}",
                url,
                source,
                f"CasePilot editors, updated {guideline.updated_at.date().isoformat()}",
            )
        )
    if subject is not None:
        answer.heading = f"Guidelines for {subject.code}"
        answer.code_id = subject.pk
    return answer


def _answer_modifiers(reading: Reading, lookup: _Lookup, sections: bool) -> Answer:
    subject = lookup.subject
    answer = Answer(kind="modifiers", heading="Modifiers")
    named = list(reading.modifiers)
    rows = {m.code: m for m in Modifier.objects.filter(code__in=named)} if named else {}
    for code in named:
        modifier = rows.get(code)
        if modifier is None:
            continue
        text = f"Modifier {modifier.code}: {modifier.short_descriptor}."
        if sections and modifier.note:
            text += " " + _first_sentence(modifier.note)
        answer.facts.append(
            Fact(
                text,
                modifier.get_absolute_url(),
                f"Modifier {modifier.code}",
                "CPT and HCPCS Level II modifiers",
            )
        )
        if modifier.code in NCCI_ASSOCIATED_MODIFIERS and sections:
            answer.facts.append(
                Fact(
                    f"{modifier.code} is an NCCI-associated modifier: on an edit with modifier "
                    "indicator 1 it may bypass the edit when the services were distinct.",
                    modifier.get_absolute_url(),
                    f"Modifier {modifier.code}",
                    "NCCI policy",
                )
            )
    if subject is None or subject.system.slug == "icd10cm":
        if named:
            answer.heading = "Modifier " + ", ".join(named)
        return answer
    answer.heading = f"Modifiers for {subject.code}"
    answer.code_id = subject.pk
    if not sections:
        links = CodeModifier.objects.filter(code_id=subject.pk).select_related("modifier")
        names = [f"{link.modifier.code} ({link.modifier.short_descriptor})" for link in links]
        if names:
            answer.facts.append(
                Fact(
                    f"Modifiers used with {subject.code}: {', '.join(names)}.",
                    _code_url(subject),
                    _source(subject),
                    _system_edition(subject),
                    [subject.key],
                )
            )
        answer.invite = _invite("modifiers", subject)
        return answer
    price = payment_lookup(keys=[subject.key], dos=reading.dos).get(subject.key)
    in_force = price.line if price else None
    # The modifiers NCCI implies come from the edits a modifier may bypass: a few name them.
    # Its column 1 edits first: a code is column 2 of thousands, column 1 of far fewer.
    bypassable = ptp_edits_with(subject.key, day=reading.dos, indicator="1", limit=7, columns=(1,))
    if not bypassable:
        bypassable = ptp_edits_with(
            subject.key, day=reading.dos, indicator="1", limit=7, columns=(2,)
        )
    ncci = [_pair(edit, subject.key) for edit in bypassable]
    lookup.known.update(pair.other for pair in ncci)
    derived = modifiers_derive(rvu=in_force, ncci=ncci)
    uses = modifiers_for_code(code=subject, derived=derived)
    wanted = set(named)
    if "bilateral" in reading.words:
        wanted |= {"50", "RT", "LT"}
    shown = [use for use in uses if not wanted or use.code in wanted] or uses
    url = _code_url(subject, section="modifiers", dos=reading.dos)
    edition = _pfs_edition(in_force) if in_force else ""
    for use in shown[:8]:
        name = use.modifier.short_descriptor if use.modifier else ""
        why = "; ".join(f"{reason.label}: {reason.text}" for reason in use.reasons)
        text = f"{use.code}" + (f" ({name})" if name else "") + f" with {subject.code}"
        text += f": {why}" if why else (f": {use.note}" if use.note else ".")
        answer.facts.append(
            Fact(
                text,
                url,
                _source(subject, "modifiers"),
                edition or "CasePilot editors",
                [subject.key],
            )
        )
    if "bilateral" in reading.words or wanted & {"50", "RT", "LT"}:
        for rule in facts_derive(code=subject, rvu=in_force):
            if rule.startswith("Bilateral"):
                answer.facts.append(
                    Fact(
                        rule,
                        _code_url(subject, section="payment", dos=reading.dos),
                        _source(subject, "payment"),
                        edition,
                        [subject.key],
                    )
                )
    for modifier in named:
        if modifier in rows and modifier not in {use.code for use in uses}:
            answer.facts.append(
                Fact(
                    f"Neither the fee schedule indicators, the NCCI edits nor our editors link "
                    f"modifier {modifier} to {subject.code}.",
                    url,
                    _source(subject, "modifiers"),
                    edition or "CasePilot editors",
                    [subject.key],
                )
            )
    return answer


def _one_code_answer(kind: str, title: str, subject, sections: bool) -> Answer:
    """The start of an answer about one code's section: tied to the code, and for a viewer
    who may not see the section an invitation instead of facts."""
    answer = Answer(kind=kind, heading=title)
    if subject is not None:
        answer.code_id = subject.pk
        if not sections:
            answer.invite = _invite(kind, subject)
    return answer


def _answer_crosswalk(reading: Reading, lookup: _Lookup, sections: bool) -> Answer:
    subject = lookup.subject
    answer = _one_code_answer("crosswalk", "Crosswalk", subject, sections)
    if subject is None:
        return answer
    answer.heading = f"ICD-10-CM crosswalk for {subject.code}"
    if not sections:
        return answer
    url = _code_url(subject, section="crosswalk")
    for group in crosswalk_for_code(code=subject):
        for link in group.links[:8]:
            other = link.code if subject.system.slug == "icd10cm" else link.diagnosis
            lookup.known.add(other.key)
            label = f"{group.label}: " if group.label else ""
            answer.facts.append(
                Fact(
                    f"{label}{other.code} {other.short_descriptor}.",
                    url,
                    _source(subject, "crosswalk"),
                    "CasePilot crosswalk (editors)",
                    [other.key],
                )
            )
    return answer


def _pair(edit: PtpEdit, key: str) -> NcciPair:
    """An edit as seen from one of its codes (the shape the code page's rules take)."""
    other = edit.column2 if edit.column1 == key else edit.column1
    return NcciPair(
        column1=edit.column1,
        column2=edit.column2,
        is_column1=edit.column1 == key,
        other=other,
        other_url="",
        other_short="",
        effective_date=edit.effective_date,
        deletion_date=edit.deletion_date,
        indicator=edit.modifier_indicator,
        rationale=edit.rationale,
        setting=edit.setting,
    )


def _ptp_fact(edit: PtpEdit, codes: dict[str, Code], dos: datetime.date) -> Fact:
    meaning = NCCI_INDICATOR_MEANINGS.get(edit.modifier_indicator, "")
    text = (
        f"{edit.column1} (column 1) and {edit.column2} (column 2): an NCCI PTP edit in force on "
        f"{dos.isoformat()}; {edit.column2} is not paid with {edit.column1}. Modifier indicator "
        f"{edit.modifier_indicator}: {meaning}"
    )
    if edit.modifier_indicator == "1":
        text += " Bypass modifiers: 59, XE, XS, XP, XU or an anatomic modifier."
    if edit.rationale:
        text += f" Rationale: {edit.rationale}."
    page = codes.get(edit.column1) or codes.get(edit.column2)
    url = _code_url(page, section="ncci", dos=dos) if page else ""
    source = _source(page, "ncci") if page else "NCCI PTP edits"
    return Fact(text, url, source, edit.edition_label, [edit.column1, edit.column2])


def _answer_ncci(reading: Reading, lookup: _Lookup, sections: bool) -> Answer:
    subject = lookup.subject
    keys = list(reading.keys)
    if lookup.context is not None and lookup.context.key not in keys:
        keys.insert(0, lookup.context.key)
    answer = Answer(kind="ncci", heading="NCCI edits")
    if len(keys) < 2:
        if subject is not None and any(w in reading.words for w in KEYWORDS["mue"]):
            return _answer_mue(reading, lookup, sections)
        if subject is None:
            return answer
        if not sections:
            answer.invite = _invite("ncci", subject)
            answer.code_id = subject.pk
            return answer
        edits = ptp_edits_with(subject.key, day=reading.dos, limit=6)
        answer.heading = f"NCCI edits for {subject.code}"
        answer.code_id = subject.pk
        for edit in edits:
            pair = _pair(edit, subject.key)
            lookup.known.add(pair.other)
            role = "column 1" if pair.is_column1 else "column 2"
            answer.facts.append(
                Fact(
                    f"{subject.code} is {role} with {pair.other}: modifier indicator "
                    f"{pair.indicator}. {NCCI_INDICATOR_MEANINGS.get(pair.indicator, '')}",
                    _code_url(subject, section="ncci", dos=reading.dos),
                    _source(subject, "ncci"),
                    edit.edition_label,
                    [subject.key, pair.other],
                )
            )
        if len(edits) == 6:
            answer.notes.append("The code page lists every NCCI edit of the code.")
        if not edits:
            _no_edit_fact(answer, subject, reading.dos)
        return answer
    answer.heading = "NCCI edits between " + " and ".join(keys[:4])
    if not sections:
        answer.invite = _invite("ncci", subject)
        return answer
    edits = ptp_edits_among(keys[:6], day=reading.dos)
    codes = {code.key: code for code in lookup.all_codes}
    for edit in edits:
        lookup.known.update((edit.column1, edit.column2))
        answer.facts.append(_ptp_fact(edit, codes, reading.dos))
    if not edits:
        # Only codes we hold may be named: one we do not hold has no edits in our tables either.
        held = [key for key in keys if key in codes]
        if held:
            page = codes[held[0]]
            between = (
                " and ".join(held[:4])
                if len(held) == len(keys)
                else f"{' and '.join(held[:4])} and the other code you named"
            )
            answer.facts.append(
                Fact(
                    f"No NCCI PTP edit between {between} is in force on "
                    f"{reading.dos.isoformat()} in our practitioner edits: NCCI does not bar "
                    "billing them together.",
                    _code_url(page, section="ncci", dos=reading.dos),
                    _source(page, "ncci"),
                    "NCCI PTP practitioner edits on file",
                    held[:4],
                )
            )
    if subject is not None:
        answer.code_id = subject.pk
    return answer


def _no_edit_fact(answer: Answer, code: Code, dos: datetime.date) -> None:
    answer.facts.append(
        Fact(
            f"No NCCI PTP edit with {code.code} is in force on {dos.isoformat()} in our tables.",
            _code_url(code, section="ncci", dos=dos),
            _source(code, "ncci"),
            "NCCI PTP practitioner edits on file",
            [code.key],
        )
    )


def _answer_mue(reading: Reading, lookup: _Lookup, sections: bool) -> Answer:
    subject = lookup.subject
    answer = _one_code_answer("mue", "MUE", subject, sections)
    if subject is None:
        return answer
    answer.heading = f"Units of {subject.code}"
    if not sections:
        return answer
    codes = [c for c in lookup.all_codes if c.system.slug != "icd10cm"][:4] or [subject]
    limits = mue_limits([c.key for c in codes], day=reading.dos)
    for code in codes:
        limit = limits.get(code.key)
        if limit is None:
            answer.facts.append(
                Fact(
                    f"No practitioner MUE for {code.code} is in force on "
                    f"{reading.dos.isoformat()} in our tables.",
                    _code_url(code, section="ncci", dos=reading.dos),
                    _source(code, "ncci"),
                    "MUE practitioner values on file",
                    [code.key],
                )
            )
            continue
        text = (
            f"{code.code}: MUE {limit.value} per date of service or line "
            f"(adjudication indicator {limit.adjudication}). "
            f"{MUE_MEANINGS.get(limit.adjudication, '')}"
        )
        if limit.rationale:
            text += f" Rationale: {limit.rationale}."
        answer.facts.append(
            Fact(
                text,
                _code_url(code, section="ncci", dos=reading.dos),
                _source(code, "ncci"),
                limit.edition_label,
                [code.key],
            )
        )
    return answer


def _answer_payment(reading: Reading, lookup: _Lookup, sections: bool) -> Answer:
    codes = [c for c in lookup.all_codes if c.system.slug != "icd10cm"][:4]
    answer = Answer(kind="payment", heading="Medicare payment")
    if not codes:
        return answer
    answer.heading = "Medicare payment for " + ", ".join(c.code for c in codes)
    answer.code_id = codes[0].pk
    if not sections:
        answer.invite = _invite("payment", codes[0])
        return answer
    # Guests never reach this: the locality is looked up for an account only.
    locality, note = locality_named(reading.locality) if reading.locality else (None, "")
    _payment_facts(answer, codes, reading=reading, locality=locality)
    if locality is not None and answer.facts:
        answer.heading += f" in {locality.label}"
    if note and answer.facts:
        answer.notes.append(note)
    return answer


def _answer_coverage(reading: Reading, lookup: _Lookup, sections: bool) -> Answer:
    subject = lookup.subject
    answer = _one_code_answer("coverage", "Medicare coverage", subject, sections)
    if subject is None:
        return answer
    answer.heading = f"Medicare coverage for {subject.code}"
    if not sections:
        return answer
    for ref in coverage_as_of(code=subject, dos=reading.dos):
        where = ref.contractor or ("National" if ref.kind == "NCD" else "")
        text = f"{ref.kind} {ref.number}: {ref.title}" + (f" ({where})." if where else ".")
        edition = f"{ref.kind} {ref.number}" + (
            f", effective {ref.effective_date.isoformat()}" if ref.effective_date else ""
        )
        answer.facts.append(
            Fact(
                text,
                _code_url(subject, section="coverage", dos=reading.dos),
                _source(subject, "coverage"),
                edition,
                [subject.key],
            )
        )
    if not answer.facts:
        answer.facts.append(
            Fact(
                f"No national or local coverage determination for {subject.code} is on file "
                f"for {reading.dos.isoformat()}.",
                _code_url(subject, section="coverage", dos=reading.dos),
                _source(subject, "coverage"),
                "Coverage references on file",
                [subject.key],
            )
        )
    return answer


def _answer_history(reading: Reading, lookup: _Lookup, sections: bool) -> Answer:
    subject = lookup.subject
    answer = _one_code_answer("history", "History", subject, sections)
    if subject is None:
        return answer
    answer.heading = f"History of {subject.code}"
    if not sections:
        return answer
    url = _code_url(subject, section="history")
    for year, entries in history_by_year(code=subject):
        for entry in entries:
            text = f"{year}: {entry.get_action_display()}"
            text += f" on {entry.date.isoformat()}" if entry.date else ""
            text += f". {entry.note}" if entry.note else "."
            answer.facts.append(
                Fact(
                    text,
                    url,
                    _source(subject, "history"),
                    f"{subject.system.short_name} history ({entry.source or 'editors'})",
                    [subject.key],
                )
            )
    if not answer.facts:
        answer.facts = _code_facts(subject, sections=sections, primaries=[])[:2]
    return answer


BUILDERS = {
    "code": _answer_code,
    "compare": _answer_compare,
    "guidelines": _answer_guidelines,
    "modifiers": _answer_modifiers,
    "crosswalk": _answer_crosswalk,
    "ncci": _answer_ncci,
    "mue": _answer_mue,
    "payment": _answer_payment,
    "coverage": _answer_coverage,
    "history": _answer_history,
}


# --- Never a code we do not hold -------------------------------------------------------------


def codes_in_text(text: str) -> set[str]:
    """The keys of the code-shaped tokens in `text` (M54.50 → M5450)."""
    return {token.replace(".", "") for token in CODE_IN_TEXT.findall(text)}


def _vet(answer: Answer, known: set[str]) -> None:
    """Cut every sentence that names a code neither fetched for this answer nor in our code
    tables (an editor's passage may mention one): one query for all the strangers."""
    texts = [fact.text for fact in answer.facts] + [answer.heading]
    strangers = set().union(*(codes_in_text(text) for text in texts)) - known
    if strangers:
        held = Code.objects.filter(system__slug__in=list(SYSTEMS), key__in=strangers)
        known = known | set(held.values_list("key", flat=True))
    kept = []
    for fact in answer.facts:
        sentences = [s for s in SENTENCE_END.split(fact.text) if codes_in_text(s) <= known]
        if sentences:
            fact.text = " ".join(sentences)
            kept.append(fact)
    answer.facts = kept
    if not codes_in_text(answer.heading) <= known:
        answer.heading = "CasePilot"
