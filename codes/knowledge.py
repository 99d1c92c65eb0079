"""The knowledge an account unlocks below a code's descriptions, as of a date of service.

`knowledge_build` gathers the seven sections of a code page in a fixed, small number of queries
(one per source, NCCI edits and MUEs together in one union) so that a page's query count does
not grow with its content. Everything derived from the data — which modifiers apply and why,
what a payment indicator means — is worded here, once, in plain language.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    CharField,
    Choices,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.safestring import SafeString

from codes import payment as payment_rules
from codes.models import (
    Code,
    CodeGroup,
    CodeHistory,
    CoverageReference,
    CrosswalkLink,
    Gpci,
    Guideline,
    Locality,
    Modifier,
    MueValue,
    NcciEdit,
    RelatedCode,
    RvuLine,
)
from codes.normalize import SYSTEMS
from codes.payment import LinePrice, PriceRequest
from codes.svg import rvu_chart

PROCEDURE_SYSTEMS = ("cpt", "hcpcs")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# --- Date of service -----------------------------------------------------------------------------


def date_of_service_parse(*, raw: str | None, today: datetime.date) -> tuple[datetime.date, str]:
    """The date of service a `?dos=YYYY-MM-DD` asks for, or today with a message saying why."""
    if not raw:
        return today, ""
    shown = raw if len(raw) <= 20 else raw[:20] + "…"
    shown = shown.replace("\x00", "")
    if ISO_DATE.fullmatch(raw):
        try:
            return datetime.date.fromisoformat(raw), ""
        except ValueError:
            pass
    return today, f"“{shown}” is not a date of service (use YYYY-MM-DD); showing today instead."


# --- Plain-language meanings of the CMS indicators -----------------------------------------------

# Statuses under which the fee schedule's RVUs give the national payment.
PRICED_STATUSES = {"A", "R", "T"}
STATUS_MEANINGS = {
    "A": "Active: paid separately under the fee schedule.",
    "B": "Bundled: always paid as part of another service, never on its own.",
    "C": "Carrier priced: the Medicare contractor sets the payment.",
    "D": "Deleted: no longer valid, with a grace period for old claims.",
    "E": "Excluded from the fee schedule by regulation.",
    "F": "Deleted without a grace period.",
    "G": "Not valid for Medicare: another code is used instead.",
    "H": "A modifier for this code was deleted.",
    "I": "Not valid for Medicare: another code is used instead.",
    "J": "Anesthesia service: paid under the anesthesia fee schedule.",
    "M": "Measurement code: reported for quality programs, not paid.",
    "N": "Not covered by Medicare.",
    "P": "Bundled or excluded: not paid separately under the fee schedule.",
    "R": "Restricted coverage: paid only in special circumstances.",
    "T": "Paid only when no other fee-schedule service is billed the same day.",
    "X": "Excluded from Medicare coverage by law.",
}
PCTC_MEANINGS = {
    "0": "Physician service: no professional/technical split; modifiers 26 and TC do not apply.",
    "1": "Has a professional (26) and a technical (TC) component, billable together or apart.",
    "2": "Professional component only: the code itself is the interpretation.",
    "3": "Technical component only: the code itself is the equipment and staff part.",
    "4": "Global test only: the parts have codes of their own.",
    "5": "Incident-to service: paid only when furnished under a physician's supervision.",
    "6": "Laboratory physician interpretation: modifier 26 reports the interpretation.",
    "7": "Physical therapy service: not paid when furnished by a therapist in private practice.",
    "8": "Physician interpretation code: paid only for the physician's interpretation.",
    "9": "The professional/technical concept does not apply.",
}
GLOBAL_MEANINGS = {
    "000": "0-day global: work on the day of the procedure is included.",
    "010": "10-day global: the day of the procedure and the 10 days after are included.",
    "090": "90-day global: the day before, the day of and the 90 days after are included.",
    "MMM": "Maternity code: the usual global surgery rules do not apply.",
    "XXX": "The global surgery rules do not apply.",
    "YYY": "The Medicare contractor sets the global period.",
    "ZZZ": "Add-on code: it falls within the global period of its primary procedure.",
}
MULT_PROC_MEANINGS = {
    "0": "No multiple-procedure reduction.",
    "1": "Standard multiple-procedure reduction (older rules).",
    "2": "Standard reduction: with other procedures the same day, the highest-valued one is "
    "paid in full and the others at 50%.",
    "3": "Endoscopy rules: related endoscopies share one base endoscopy payment.",
    "4": "Diagnostic imaging reduction applies to the technical component.",
    "5": "Therapy reduction applies to the practice expense.",
    "6": "Diagnostic cardiovascular reduction applies to the technical component.",
    "7": "Diagnostic ophthalmology reduction applies to the technical component.",
    "9": "The multiple-procedure concept does not apply.",
}
BILATERAL_MEANINGS = {
    "0": "No bilateral adjustment: both sides together are paid no more than one.",
    "1": "Bilateral adjustment: both sides at one session are paid at 150% (modifier 50).",
    "2": "Already bilateral: paid at 100% whether one or both sides were done.",
    "3": "Each side paid in full: both sides are paid at 100% each.",
    "9": "The bilateral concept does not apply.",
}
ASSISTANT_MEANINGS = {
    "0": "An assistant at surgery is paid only with documentation of medical necessity.",
    "1": "An assistant at surgery is never paid (statutory restriction).",
    "2": "An assistant at surgery may be paid.",
    "9": "The assistant-at-surgery concept does not apply.",
}
CO_SURGERY_MEANINGS = {
    "0": "Co-surgeons are not paid.",
    "1": "Co-surgeons are paid with documentation that two surgeons were needed.",
    "2": "Co-surgeons are paid when two specialties are required.",
    "9": "The co-surgery concept does not apply.",
}
TEAM_SURGERY_MEANINGS = {
    "0": "Team surgery is not paid.",
    "1": "Team surgery is paid with documentation of medical necessity.",
    "2": "Team surgery is paid.",
    "9": "The team-surgery concept does not apply.",
}
NCCI_PAIRS_SHOWN = 150  # per table; the rest are counted, not listed
NCCI_INDICATOR_MEANINGS = {
    "0": "Never bypassed: the column 2 code is not paid with the column 1 code, whatever "
    "modifier is used.",
    "1": "Can be bypassed: a modifier (59, XE, XS, XP, XU or an anatomic modifier) lets both "
    "be paid when the services were truly distinct and the record shows it.",
    "9": "Not applied: the edit was withdrawn on the day it took effect.",
}
MUE_MEANINGS = {
    MueValue.Adjudication.LINE: "Line edit: units above the limit on one claim line are denied; "
    "further lines with an appropriate modifier can still be paid.",
    MueValue.Adjudication.POLICY: "Date-of-service edit set by policy: units above the limit "
    "for the day are denied, and appeals do not succeed.",
    MueValue.Adjudication.CLINICAL: "Date-of-service edit set on clinical grounds: units above "
    "the limit for the day are denied, but can be paid on appeal with documentation.",
}

# --- Modifiers the data implies ------------------------------------------------------------------


@dataclass(frozen=True)
class ModifierReason:
    """Why the data says a modifier applies: a short label and the rule in plain words."""

    label: str
    text: str


# RvuLine field → indicator value → (the modifiers that apply, why).
INDICATOR_MODIFIERS: dict[str, dict[str, tuple[tuple[str, ...], ModifierReason]]] = {
    "bilat_surg": {
        "1": (
            ("50", "RT", "LT"),
            ModifierReason(
                "Bilateral indicator 1",
                "Done on both sides at one session, the code is reported once with 50 and paid "
                "at 150% of one side; some payers ask for RT and LT on two lines instead.",
            ),
        ),
        "3": (
            ("50", "RT", "LT"),
            ModifierReason(
                "Bilateral indicator 3",
                "Each side is paid in full; show both sides with 50 or with RT and LT, as the "
                "payer asks.",
            ),
        ),
    },
    "pctc_indicator": {
        "1": (
            ("26", "TC"),
            ModifierReason(
                "PC/TC indicator 1",
                "The code has a professional and a technical component: bill the "
                "interpretation alone with 26, the equipment and staff part alone with TC, or "
                "the code with neither modifier for both.",
            ),
        ),
        "6": (
            ("26",),
            ModifierReason(
                "PC/TC indicator 6",
                "The physician's interpretation of this laboratory test is reported with 26.",
            ),
        ),
    },
    "asst_surg": {
        "0": (
            ("80", "81", "82", "AS"),
            ModifierReason(
                "Assistant-at-surgery indicator 0",
                "An assistant at surgery is paid only when the record shows one was medically "
                "necessary.",
            ),
        ),
        "2": (
            ("80", "81", "82", "AS"),
            ModifierReason(
                "Assistant-at-surgery indicator 2",
                "Medicare pays an assistant at surgery for this code: 80 or 81 for a surgeon, "
                "82 when no qualified resident was available, AS for a PA, NP or CNS.",
            ),
        ),
    },
    "co_surg": {
        "1": (
            ("62",),
            ModifierReason(
                "Co-surgery indicator 1",
                "Two surgeons may each report 62 with documentation that both were needed.",
            ),
        ),
        "2": (
            ("62",),
            ModifierReason(
                "Co-surgery indicator 2",
                "Two surgeons of different specialties may each report 62.",
            ),
        ),
    },
    "team_surg": {
        "1": (
            ("66",),
            ModifierReason(
                "Team surgery indicator 1",
                "A surgical team may report 66 with documentation of medical necessity.",
            ),
        ),
        "2": (
            ("66",),
            ModifierReason("Team surgery indicator 2", "A surgical team may report 66."),
        ),
    },
}
NCCI_BYPASS_MODIFIERS = ("59", "XE", "XS", "XP", "XU")


@dataclass
class ModifierUse:
    """One modifier that applies to the code: the editor's note and the reasons the data gives."""

    code: str
    modifier: Modifier | None = None
    note: str = ""
    reasons: list[ModifierReason] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.modifier.get_absolute_url() if self.modifier else ""


def modifiers_derive(
    *, rvu: RvuLine | None, ncci: list[NcciPair]
) -> dict[str, list[ModifierReason]]:
    """Modifier code → the reasons the fee schedule indicators and NCCI edits give for it."""
    reasons: dict[str, list[ModifierReason]] = defaultdict(list)
    if rvu is not None:
        for attribute, rules in INDICATOR_MODIFIERS.items():
            modifiers, why = rules.get(getattr(rvu, attribute), ((), None))
            for modifier in modifiers:
                reasons[modifier].append(why)
    bypassable = sorted({pair.other for pair in ncci if pair.indicator == "1"})
    if bypassable:
        listed = ", ".join(bypassable[:6]) + (" and others" if len(bypassable) > 6 else "")
        why = ModifierReason(
            "NCCI modifier indicator 1",
            f"The NCCI edits with {listed} can be bypassed when the services were distinct: "
            "append to the column 2 code XE (another session), XS (another organ or "
            "structure), XP (another practitioner) or XU (a service that does not overlap), "
            "or 59 when no X modifier describes it.",
        )
        for modifier in NCCI_BYPASS_MODIFIERS:
            reasons[modifier].append(why)
    return dict(reasons)


def modifiers_for_code(
    *, code: Code, derived: dict[str, list[ModifierReason]]
) -> list[ModifierUse]:
    """The modifiers an editor linked to the code and those the data implies, in one query."""
    rows = (
        Modifier.objects.annotate(
            link=FilteredRelation("code_links", condition=Q(code_links__code_id=code.pk))
        )
        .filter(Q(code__in=list(derived)) | Q(link__isnull=False))
        .annotate(link_note=F("link__note"))
    )
    uses = {code_: ModifierUse(code=code_, reasons=why) for code_, why in derived.items()}
    for modifier in rows:
        use = uses.setdefault(modifier.code, ModifierUse(code=modifier.code))
        use.modifier = modifier
        use.note = modifier.link_note or ""
    # Numeric modifiers first (26, 50, 59), then the letters (AS, LT, RT), as coders list them.
    return sorted(uses.values(), key=lambda use: (not use.code.isdigit(), use.code))


# --- Facts the fee schedule states, in plain words -----------------------------------------------


def facts_derive(*, code: Code, rvu: RvuLine | None) -> list[str]:
    """Billing rules that follow from the code's flags and its fee schedule line."""
    facts: list[str] = []
    is_addon = code.is_addon or (rvu is not None and rvu.global_days == "ZZZ")
    if is_addon:
        facts.append(
            f"{code.code} is an add-on code: report it only with its primary procedure, on the "
            "same claim and date of service. It has no global period of its own (ZZZ) and the "
            "multiple-procedure reduction does not apply to it, so never append 51."
        )
    if rvu is None:
        return facts
    if rvu.status_code and rvu.status_code != "A" and rvu.status_code in STATUS_MEANINGS:
        facts.append(f"Medicare status {rvu.status_code}: {STATUS_MEANINGS[rvu.status_code]}")
    global_facts = {
        "000": "Global period 0 days: the surgeon's work on the day of the procedure is "
        "included; an E/M visit that day is billed only when it is significant and separately "
        "identifiable, with modifier 25.",
        "010": "Global period 10 days: the day of the procedure and the 10 days after are "
        "included; visits for the same problem in that time are not billed separately.",
        "090": "Global period 90 days: the day before, the day of and the 90 days after the "
        "procedure are included; bill the visit where surgery was decided with 57 and an "
        "unrelated visit in the period with 24.",
        "YYY": "The Medicare contractor sets the global period for this code; ask it before "
        "billing follow-up visits.",
    }
    if rvu.global_days in global_facts:
        facts.append(global_facts[rvu.global_days])
    bilateral = {
        "0": f"Bilateral indicator 0: if {code.code} is done on both sides, Medicare pays no "
        "more than for one side; modifier 50 does not raise the payment.",
        "1": f"Bilateral indicator 1: when {code.code} is done on both sides at the same "
        "session, report it once with modifier 50 and one unit; Medicare pays 150% of the "
        "one-side amount.",
        "2": f"Bilateral indicator 2: {code.code} already covers both sides; do not add "
        "modifier 50.",
        "3": f"Bilateral indicator 3: each side of {code.code} is paid in full; report both "
        "sides as the payer asks (50, or RT and LT).",
    }
    if rvu.bilat_surg in bilateral:
        facts.append(bilateral[rvu.bilat_surg])
    if rvu.mult_proc == "2" and not is_addon:
        facts.append(MULT_PROC_MEANINGS["2"])
    return facts


# --- Fee schedule --------------------------------------------------------------------------------


def edition_start(*, edition: str, year: int) -> datetime.date:
    """The first day a release applies: `2023-APR` → April 1, 2023; a bare year → January 1."""
    return payment_rules.release_start(edition=edition, year=year)


# The modifiers whose payment effect the section works out for the code, in the order coders
# read them; 26 and TC have lines of their own (the components table).
PAYMENT_MODIFIERS = (("50",), ("51",), ("62",), ("80",), ("82",), ("AS",))


@dataclass
class Payment:
    """The fee schedule line in force on the date of service, with its sibling component lines."""

    line: RvuLine
    components: list[RvuLine]
    in_force: bool  # False when the date of service is before the oldest release on file
    chart: SafeString
    locality: Locality | None = None
    # The line and each component line priced in the locality (national when none), the
    # national amounts beside them, and the payment modifiers priced or refused.
    prices: list[LinePrice] = field(default_factory=list)
    national: list[LinePrice] = field(default_factory=list)
    modifier_prices: list[LinePrice] = field(default_factory=list)

    @property
    def price(self) -> LinePrice | None:
        return self.prices[0] if self.prices else None

    @property
    def national_price(self) -> LinePrice | None:
        return self.national[0] if self.national else None

    @property
    def component_prices(self) -> list[tuple[RvuLine, LinePrice, LinePrice]]:
        return list(zip(self.components, self.prices[1:], self.national[1:], strict=False))

    @property
    def gpci(self) -> Gpci | None:
        return self.price.gpci if self.price else None

    @property
    def current(self) -> bool:
        """Whether the release and the GPCIs are those of the date of service's year."""
        price = self.price
        if price is None:
            return True
        same_year = self.line.year == price.day.year
        return same_year and (self.gpci is None or self.gpci.year == price.day.year)

    @property
    def priced(self) -> bool:
        return is_priced(self.line)

    @property
    def status_meaning(self) -> str:
        return STATUS_MEANINGS.get(self.line.status_code, "")

    @property
    def indicators(self) -> list[tuple[str, str, str]]:
        """(indicator name, value, meaning) for each payment indicator the line carries."""
        line = self.line
        rows = [
            ("Status", line.status_code, STATUS_MEANINGS),
            ("PC/TC", line.pctc_indicator, PCTC_MEANINGS),
            ("Global period", line.global_days, GLOBAL_MEANINGS),
            ("Multiple procedures", line.mult_proc, MULT_PROC_MEANINGS),
            ("Bilateral surgery", line.bilat_surg, BILATERAL_MEANINGS),
            ("Assistant at surgery", line.asst_surg, ASSISTANT_MEANINGS),
            ("Co-surgeons", line.co_surg, CO_SURGERY_MEANINGS),
            ("Team surgery", line.team_surg, TEAM_SURGERY_MEANINGS),
        ]
        return [(name, value, meanings.get(value, "")) for name, value, meanings in rows if value]


def is_priced(line: RvuLine) -> bool:
    """Whether the fee schedule sets a national amount for the line: a carrier-priced, bundled
    or excluded code carries zeros, and a '$0.00' payment would mislead."""
    return line.status_code in PRICED_STATUSES or not line.status_code


def payment_for_lines(
    *, lines: list[RvuLine], dos: datetime.date, chart: bool = True
) -> Payment | None:
    """Pick the release in force on the date of service (or the oldest one, flagged) from a
    code's fee schedule lines; its line without a modifier is the global service. `chart=False`
    skips drawing the RVU chart, which only a code page shows."""
    chosen, in_force = payment_rules.release_lines(lines=lines, day=dos)
    if not chosen:
        return None
    main = chosen[0]
    return Payment(
        line=main,
        components=[line for line in chosen if line is not main],
        in_force=in_force,
        chart=rvu_chart(line=main) if chart and is_priced(main) else SafeString(""),
    )


def payment_section_build(
    *, code: Code, dos: datetime.date, locality: Locality | None
) -> Payment | None:
    """The RVU and payment section for one date of service in one locality (None: national).
    Both are explicit so that they can key a cache of the section. One query for the code's
    fee schedule lines; the locality's GPCIs come with it from `locality_find`."""
    lines = list(RvuLine.objects.filter(code=code.key))
    payment = payment_for_lines(lines=lines, dos=dos)
    if payment is None:
        return None
    key = code.key
    requests = [
        PriceRequest(key, (line.modifier,) if line.modifier else ())
        for line in [payment.line, *payment.components]
    ]
    price = functools.partial(payment_rules.price_lines, day=dos, rvu_lines=lines, same_claim=False)
    payment.locality = locality
    payment.prices = price(requests, locality=locality)
    payment.national = price(requests, locality=None) if locality else payment.prices
    if is_priced(payment.line):
        payment.modifier_prices = price(
            [PriceRequest(key, modifiers) for modifiers in PAYMENT_MODIFIERS], locality=locality
        )
    return payment


# --- NCCI edits and MUEs -------------------------------------------------------------------------


@dataclass(frozen=True)
class NcciPair:
    column1: str
    column2: str
    is_column1: bool  # whether the page's code is the column 1 code of the pair
    other: str  # the code paired with the page's code
    other_url: str
    other_short: str
    effective_date: datetime.date | None
    deletion_date: datetime.date | None
    indicator: str
    rationale: str
    setting: str
    edition: str = ""  # "NCCI PTP v30.1, effective 2024-04-01"; empty: entered by hand

    @property
    def indicator_label(self) -> str:
        return _label(NcciEdit.Indicator, self.indicator)

    @property
    def setting_label(self) -> str:
        return _label(NcciEdit.Setting, self.setting)


@dataclass(frozen=True)
class MueLimit:
    service: str
    value: int
    adjudication: int
    rationale: str
    effective_date: datetime.date | None
    edition: str = ""  # "MUE 2024 Q2, effective 2024-04-01"; empty: entered by hand

    @property
    def service_label(self) -> str:
        return _label(MueValue.Service, self.service)

    @property
    def adjudication_label(self) -> str:
        return _label(MueValue.Adjudication, self.adjudication)

    @property
    def adjudication_meaning(self) -> str:
        return MUE_MEANINGS.get(self.adjudication, "")


def _label(choices: type[Choices], value: str | int) -> str:
    """A choice's label; an imported value outside the choices shows as itself, not a 500."""
    return dict(choices.choices).get(value, str(value))


def _code_url(slug: str | None, code: str) -> str:
    if not slug:
        return ""
    return _code_url_prefix(slug) + code + "/"


@functools.lru_cache(maxsize=8)
def _code_url_prefix(slug: str) -> str:
    """The URL of a system's codes up to the code: a code such as 64494 is paired with
    thousands of others, and reversing each URL cost more than the query."""
    marker = "00000"
    url = reverse("codes:code_detail", kwargs={"system": SYSTEMS[slug].url_prefix, "code": marker})
    return url[: url.rindex(marker)]


def edits_as_of(*, key: str, dos: datetime.date) -> tuple[list[NcciPair], list[MueLimit]]:
    """The NCCI pairs with the code in either column and its MUE rows in force on the date of
    service — one union query. Each pair carries the other code's title and URL when we have it."""
    paired_with = Case(When(column1=key, then=F("column2")), default=F("column1"))
    # iexact so that the look-up per pair is one probe of the upper(key) index: an equality
    # on key went to the trigram index, a tenth of a millisecond each for thousands of pairs.
    known = Code.objects.filter(
        system__slug__in=PROCEDURE_SYSTEMS, key__iexact=OuterRef("other")
    ).order_by()
    text = CharField()
    ncci = (
        NcciEdit.objects.as_of(dos)
        .filter(Q(column1=key) | Q(column2=key))
        .order_by()  # sorted below, after the union
        .annotate(other=paired_with)
        .values_list(
            Value("ncci", output_field=text),
            "column1",
            "column2",
            "other",
            Subquery(known.values("short_descriptor")[:1], output_field=text),
            Subquery(known.values("system__slug")[:1], output_field=text),
            "effective_date",
            "deletion_date",
            "modifier_indicator",
            Value(None, output_field=IntegerField()),
            "rationale",
            "setting",
            "edition__label",
        )
    )
    mue = (
        MueValue.objects.as_of(dos)
        .filter(code=key)
        .order_by()
        .values_list(
            Value("mue", output_field=text),
            "code",
            Value("", output_field=text),
            Value("", output_field=text),
            Value("", output_field=text),
            Value("", output_field=text),
            "effective_date",
            "deletion_date",
            Cast("adjudication", text),
            "value",
            "rationale",
            "service",
            "edition__label",
        )
    )
    pairs: list[NcciPair] = []
    latest: dict[str, MueLimit] = {}
    rows = ncci.union(mue, all=True)
    for row in rows:
        kind, col1, col2, other, short, slug, start, end, indicator, value, why, where, label = row
        if kind == "ncci":
            pairs.append(
                NcciPair(
                    column1=col1,
                    column2=col2,
                    is_column1=col1 == key,
                    other=other,
                    other_url=_code_url(slug, other),
                    other_short=short or "",
                    effective_date=start,
                    deletion_date=end,
                    indicator=indicator,
                    rationale=why,
                    setting=where,
                    edition=label or "",
                )
            )
            continue
        # Several rows of one service can be in force; the newest effective date governs.
        held = latest.get(where)
        oldest = datetime.date.min
        if held is None or (start or oldest) > (held.effective_date or oldest):
            latest[where] = MueLimit(
                service=where,
                value=value,
                adjudication=int(indicator),
                rationale=why,
                effective_date=start,
                edition=label or "",
            )
    pairs.sort(key=lambda p: (not p.is_column1, p.other, p.setting, p.effective_date))
    order = {choice.value: index for index, choice in enumerate(MueValue.Service)}
    return pairs, sorted(
        latest.values(), key=lambda m: (order.get(m.service, len(order)), m.service)
    )


# --- Editor-curated lists ------------------------------------------------------------------------


@dataclass
class GuidelineItem:
    guideline: Guideline
    source: CodeGroup | None  # the group whose guidance it is; None when written for the code


def guidelines_for_code(*, code: Code) -> list[GuidelineItem]:
    """The code's own guidelines, then those of each group above it, nearest group first."""
    lineage = code.group.lineage() if code.group_id else []
    groups = {group.pk: group for group in lineage}
    # The code's own guidance ranks 0, its range 1, the heading above 2, and so on up.
    rank = {group.pk: len(lineage) - index for index, group in enumerate(lineage)}
    found = Guideline.objects.filter(Q(code_id=code.pk) | Q(group_id__in=list(groups)))
    items = [
        GuidelineItem(guideline=g, source=None if g.code_id == code.pk else groups[g.group_id])
        for g in found
    ]
    items.sort(key=lambda i: (rank[i.source.pk] if i.source else 0, i.guideline.sort))
    return items


@dataclass
class CrosswalkGroup:
    label: str
    links: list[CrosswalkLink]


def crosswalk_for_code(*, code: Code) -> list[CrosswalkGroup]:
    """Diagnoses that support a procedure code or, for a diagnosis code, the procedures it
    supports; grouped by the editor's label."""
    if code.system.slug == "icd10cm":
        links = CrosswalkLink.objects.filter(diagnosis_id=code.pk).select_related("code__system")
    else:
        links = CrosswalkLink.objects.filter(code_id=code.pk).select_related("diagnosis__system")
    groups: dict[str, list[CrosswalkLink]] = {}
    for link in links:
        groups.setdefault(link.group_label, []).append(link)
    return [CrosswalkGroup(label=label, links=items) for label, items in groups.items()]


COVERAGE_ORDER = [
    CoverageReference.Kind.NCD,
    CoverageReference.Kind.LCD,
    CoverageReference.Kind.ARTICLE,
]


def coverage_as_of(*, code: Code, dos: datetime.date) -> list[CoverageReference]:
    """Coverage documents in force on the date of service: national ones first."""
    found = CoverageReference.objects.filter(
        Q(effective_date__isnull=True) | Q(effective_date__lte=dos),
        Q(end_date__isnull=True) | Q(end_date__gte=dos),
        code_id=code.pk,
    )
    order = {kind: index for index, kind in enumerate(COVERAGE_ORDER)}
    return sorted(found, key=lambda ref: (order.get(ref.kind, len(order)), ref.number))


def history_by_year(*, code: Code) -> list[tuple[int, list[CodeHistory]]]:
    years: dict[int, list[CodeHistory]] = {}
    for entry in CodeHistory.objects.filter(code_id=code.pk):
        years.setdefault(entry.year, []).append(entry)
    return list(years.items())


# --- All seven sections --------------------------------------------------------------------------


@dataclass
class Knowledge:
    dos: datetime.date
    locality: Locality | None
    is_procedure: bool
    guidelines: list[GuidelineItem]
    facts: list[str]
    modifiers: list[ModifierUse]
    crosswalk: list[CrosswalkGroup]
    ncci: list[NcciPair]
    mue: list[MueLimit]
    payment: Payment | None
    coverage: list[CoverageReference]
    history: list[tuple[int, list[CodeHistory]]]
    see_also: list[RelatedCode]

    @property
    def modifier_reasons(self) -> list[ModifierReason]:
        """Each reason once, in the order the modifiers list them."""
        return list(dict.fromkeys(why for use in self.modifiers for why in use.reasons))

    @property
    def ncci_indicators(self) -> list[tuple[str, str]]:
        """(label, meaning) of each modifier indicator the listed edits use."""
        used = sorted({pair.indicator for pair in self.ncci})
        return [
            (_label(NcciEdit.Indicator, value), NCCI_INDICATOR_MEANINGS[value])
            for value in used
            if value in NCCI_INDICATOR_MEANINGS
        ]

    @property
    def ncci_as_column1(self) -> list[NcciPair]:
        return [pair for pair in self.ncci if pair.is_column1][:NCCI_PAIRS_SHOWN]

    @property
    def ncci_as_column2(self) -> list[NcciPair]:
        return [pair for pair in self.ncci if not pair.is_column1][:NCCI_PAIRS_SHOWN]

    @property
    def ncci_not_shown(self) -> tuple[int, int]:
        """How many pairs past the shown ones, as column 1 and as column 2 (a code such as
        64494 is column 2 to thousands of procedures)."""
        first = sum(pair.is_column1 for pair in self.ncci)
        return max(first - NCCI_PAIRS_SHOWN, 0), max(len(self.ncci) - first - NCCI_PAIRS_SHOWN, 0)

    @property
    def ncci_shown_limit(self) -> int:
        return NCCI_PAIRS_SHOWN

    @property
    def ncci_editions(self) -> list[str]:
        return list(dict.fromkeys(pair.edition for pair in self.ncci if pair.edition))

    @property
    def ncci_undated(self) -> bool:
        """Whether a listed edit has no effective date of its own (taken from its edition)."""
        return any(pair.effective_date is None for pair in self.ncci)

    @property
    def mue_editions(self) -> list[str]:
        return list(dict.fromkeys(limit.edition for limit in self.mue if limit.edition))


def knowledge_build(
    *, code: Code, dos: datetime.date, locality: Locality | None = None
) -> Knowledge:
    """Every section of a code page as of a date of service, with payment in a locality
    (None: national). Procedure codes cost eight queries; diagnosis codes, which have no fee
    schedule, edits or modifiers, five."""
    is_procedure = code.system.slug in PROCEDURE_SYSTEMS
    payment = None
    ncci: list[NcciPair] = []
    mue: list[MueLimit] = []
    modifiers: list[ModifierUse] = []
    if is_procedure:
        payment = payment_section_build(code=code, dos=dos, locality=locality)
        ncci, mue = edits_as_of(key=code.key, dos=dos)
        derived = modifiers_derive(rvu=payment.line if payment else None, ncci=ncci)
        modifiers = modifiers_for_code(code=code, derived=derived)
    see_also = list(code.see_also.select_related("related__system"))
    return Knowledge(
        dos=dos,
        locality=locality,
        is_procedure=is_procedure,
        guidelines=guidelines_for_code(code=code),
        facts=facts_derive(code=code, rvu=payment.line if payment else None),
        modifiers=modifiers,
        crosswalk=crosswalk_for_code(code=code),
        ncci=ncci,
        mue=mue,
        payment=payment,
        coverage=coverage_as_of(code=code, dos=dos),
        history=history_by_year(code=code),
        see_also=see_also,
    )
