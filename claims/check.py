"""The claim check: a claim's lines in, every finding the published edits give about them out.

Each rule is worked out as of each line's own date of service. The facts come from `codes/`
(`codes.edits` for the codes with their add-on primaries, and NCCI pairs with MUEs;
`codes.payment` for the fee schedule amounts in the account's locality), fetched in four
queries whatever the number of lines or pairs: codes, edits, fee schedule lines, modifiers.

The result is plain data (`CheckResult.as_dict()`), stored as the account's saved check and
rendered, printed and downloaded from there.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import lru_cache
from itertools import combinations
from typing import Literal

from django.urls import reverse

from codes.edits import (
    PtpEdit,
    bypass_modifiers,
    edits_among_dates,
    mue_governing,
    procedure_codes,
)
from codes.knowledge import (
    BILATERAL_MEANINGS,
    NCCI_INDICATOR_MEANINGS,
    PROCEDURE_SYSTEMS,
)
from codes.models import Code, Locality, Modifier, MueValue, RvuLine
from codes.normalize import SYSTEMS
from codes.payment import Amounts, LinePrice, PriceRequest, price_lines, release_lines

Severity = Literal["deny", "check", "info"]
SEVERITY_ORDER: dict[str, int] = {"deny": 0, "check": 1, "info": 2}
SEVERITY_LABELS: dict[str, str] = {"deny": "Will deny", "check": "Check", "info": "Info"}

MUE_CHECK_MEANINGS = {
    MueValue.Adjudication.LINE: "Line edit: checked on each claim line; units above the limit "
    "on a line are denied.",
    MueValue.Adjudication.POLICY: "Date-of-service edit set by policy: the units of the code on "
    "one date are added up across lines; above the limit they are denied, and appeals rarely "
    "overturn it.",
    MueValue.Adjudication.CLINICAL: "Date-of-service edit set on clinical grounds: the units of "
    "the code on one date are added up across lines; above the limit they are denied, but "
    "documentation of medical necessity can support more on appeal.",
}


@dataclass(frozen=True)
class ClaimLine:
    """One line as entered: the code's compact key, up to four modifiers, units, its date of
    service and whether it was furnished in a facility."""

    number: int
    key: str
    modifiers: tuple[str, ...]
    units: int
    dos: datetime.date
    facility: bool


@dataclass
class Finding:
    severity: Severity
    kind: str  # code, ptp, mue, addon, bilateral, modifier, payment
    lines: list[int]
    codes: list[str]
    dos: str
    title: str
    detail: str
    edition: str
    url: str = ""
    url_label: str = ""
    severity_label: str = field(init=False)

    def __post_init__(self) -> None:
        self.severity_label = SEVERITY_LABELS[self.severity]


@dataclass
class LineResult:
    number: int
    code: str
    url: str
    short: str
    modifiers: list[str]
    units: int
    dos: str
    facility: bool
    payment: str  # the participating amount in dollars and cents, or "" when none is set
    payment_note: str  # how it was priced, or why it cannot be
    worst: str = ""  # the most severe finding on the line
    adjustments: list[str] = field(default_factory=list)  # "51 at 50%", as applied
    payment_refused: bool = False  # the fee schedule or a modifier rule sets no amount
    payment_url: str = ""  # the code page's payment section in the claim's locality


@dataclass
class CheckResult:
    lines: list[LineResult]
    findings: list[Finding]
    total_payment: str
    payment_basis: str
    editions: list[str] = field(default_factory=list)
    locality: str = ""  # the `13202-01` key priced in; "" for national amounts

    def as_dict(self) -> dict:
        return asdict(self)


# --- Payment: the one place that prices a line -----------------------------------------------


def claim_prices(
    *, lines: list[ClaimLine], rvu_lines: list[RvuLine], locality: Locality | None
) -> dict[int, LinePrice]:
    """Each line's Medicare amount, by line number, from `codes.payment`: the lines of one date
    of service are priced together (the multiple-procedure ranking is per day), in the
    locality (None: national), each in its own setting. No query: the fee schedule lines are
    the claim's, and the locality comes with its GPCIs from `locality_find`."""
    by_day: dict[datetime.date, list[ClaimLine]] = defaultdict(list)
    for line in lines:
        by_day[line.dos].append(line)
    prices: dict[int, LinePrice] = {}
    for day, group in by_day.items():
        requests = [
            PriceRequest(line.key, line.modifiers, line.units, line.facility) for line in group
        ]
        priced = price_lines(requests, day=day, locality=locality, rvu_lines=rvu_lines)
        for line, price in zip(group, priced, strict=True):
            prices[line.number] = price
    return prices


def _paid(price: LinePrice) -> Amounts | None:
    """The amounts of the line's own setting."""
    return price.facility if price.request.facility else price.nonfacility


def _price_note(price: LinePrice, *, place: str) -> str:
    """How the line was priced, in a sentence a coder can check against the fee schedule."""
    if price.refusal:
        return price.refusal
    amounts = _paid(price)
    line = price.line
    where = "facility" if price.request.facility else "non-facility"
    if amounts is None or line is None:
        return f"The fee schedule sets no {where} amount for this code (its PE RVU is NA)."
    component = f", {line.modifier} component" if line.modifier else ""
    each = price.facility_fee if price.request.facility else price.nonfacility_fee
    note = f"{place} {where}{component}: {price.request.units} × ${each}"
    for adjustment in price.adjustments:
        note += f"; {adjustment.modifier} at {adjustment.percent} ({adjustment.reason})"
    note += (
        f"; non-participating ${amounts.non_participating}, limiting charge "
        f"${amounts.limiting_charge}"
    )
    if not price.release_in_force:
        note += f" (the date is before every release on file; {line.edition} used)"
    if not price.gpci_in_force and price.gpci is not None:
        note += f" (the date is before every GPCI year on file; {price.gpci.year} used)"
    return note


def _price_editions(price: LinePrice) -> list[str]:
    editions = []
    if price.line is not None:
        editions.append(f"PFS {price.line.edition} (conversion factor ${price.conversion_factor})")
    if price.gpci is not None:
        editions.append(f"GPCI {price.gpci.year} ({price.gpci.edition})")
    return editions


# --- The rules ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _page_url(system: str, code: str) -> str:
    # A claim names the same few codes in many findings: reverse each one once.
    return reverse("codes:code_detail", kwargs={"system": SYSTEMS[system].url_prefix, "code": code})


def _code_url(
    code: Code | None,
    *,
    dos: datetime.date,
    section: str = "",
    priced: bool = False,
    locality: Locality | None = None,
) -> str:
    if code is None:
        return ""
    anchor = f"#{section}" if section else ""
    where = ""
    if priced:
        # The payment section prices in the locality named (or nationally), so that it shows
        # the claim's figures whatever locality the account picks later.
        where = f"&locality={locality.key if locality else 'national'}"
    return f"{_page_url(code.system.slug, code.code)}?dos={dos.isoformat()}{where}{anchor}"


def _spelled(key: str, codes: dict[str, Code]) -> str:
    return codes[key].code if key in codes else key


def _code_findings(line: ClaimLine, code: Code | None) -> list[Finding]:
    dos = line.dos
    if code is None:
        search = reverse("codes:search")
        return [
            Finding(
                severity="check",
                kind="code",
                lines=[line.number],
                codes=[line.key],
                dos=dos.isoformat(),
                title=f"{line.key} is not in our CPT or HCPCS tables",
                detail="Check the code: a code missing from the published code sets we carry "
                "cannot be checked and is likely to be rejected.",
                edition="",
                url=f"{search}?q={line.key}",
                url_label="Search for it",
            )
        ]
    edition = f"{code.system.short_name} {code.system.edition}".strip()
    found = []
    if code.effective_date and code.effective_date > dos:
        found.append(
            Finding(
                severity="deny",
                kind="code",
                lines=[line.number],
                codes=[code.code],
                dos=dos.isoformat(),
                title=f"{code.code} was not yet in effect on {dos:%b %-d, %Y}",
                detail=f"It takes effect on {code.effective_date:%b %-d, %Y}; a claim line "
                "dated before that is rejected.",
                edition=edition,
                url=_code_url(code, dos=dos),
                url_label=f"{code.code} code page",
            )
        )
    ended = code.end_date is not None and code.end_date < dos
    if ended or (code.is_deleted and code.end_date is None):
        when = f" on {code.end_date:%b %-d, %Y}" if code.end_date else ""
        found.append(
            Finding(
                severity="deny",
                kind="code",
                lines=[line.number],
                codes=[code.code],
                dos=dos.isoformat(),
                title=f"{code.code} was deleted{when}",
                detail="A deleted code is not valid for this date of service; the code page "
                "history says what replaced it.",
                edition=edition,
                url=_code_url(code, dos=dos, section="history"),
                url_label=f"{code.code} history",
            )
        )
    return found


def _ptp_finding(edit: PtpEdit, first: ClaimLine, second: ClaimLine, codes) -> Finding:
    col1_line, col2_line = (first, second) if first.key == edit.column1 else (second, first)
    col1, col2 = _spelled(edit.column1, codes), _spelled(edit.column2, codes)
    lines = [col1_line.number, col2_line.number]
    base = (
        f"{col1} (line {col1_line.number}) is column 1 and is paid; {col2} (line "
        f"{col2_line.number}) is column 2 and is not paid with it on the same date. "
        f"Rationale: {edit.rationale or 'none given'}."
    )
    indicator = edit.modifier_indicator
    meaning = NCCI_INDICATOR_MEANINGS.get(indicator, "")
    if indicator == "0":
        severity: Severity = "deny"
        title = f"NCCI edit {col1} / {col2}: modifier indicator 0, no modifier bypasses it"
        detail = f"{base} {meaning}"
    elif indicator == "1":
        used = bypass_modifiers(col2_line.modifiers) or bypass_modifiers(col1_line.modifiers)
        if used:
            severity = "info"
            holder = col2_line if bypass_modifiers(col2_line.modifiers) else col1_line
            title = (
                f"NCCI edit {col1} / {col2} bypassed by {', '.join(used)} on line {holder.number}"
            )
            detail = (
                f"{base} Modifier indicator 1: a bypass modifier is on the claim, so both "
                "lines can be paid, provided the record shows the services were distinct "
                "(another session, site, practitioner or a non-overlapping service)."
            )
        else:
            severity = "deny"
            title = f"NCCI edit {col1} / {col2}: modifier indicator 1, no bypass modifier"
            detail = (
                f"{base} Modifier indicator 1: when the services were truly distinct, a "
                "modifier such as XE, XS, XP, XU or 59 (or an anatomic one: LT, RT, F1–F9, "
                "T1–T9, …) on the column 2 line bypasses the edit; none is on the claim."
            )
    else:
        severity = "info"
        title = f"NCCI edit {col1} / {col2}: modifier indicator {indicator}, not applied"
        detail = f"{base} {meaning}"
    column2_code = codes.get(edit.column2)
    return Finding(
        severity=severity,
        kind="ptp",
        lines=lines,
        codes=[col1, col2],
        dos=first.dos.isoformat(),
        title=title,
        detail=detail,
        edition=edit.edition_label,
        url=_code_url(column2_code, dos=first.dos, section="ncci"),
        url_label=f"{col2} NCCI edits" if column2_code else "",
    )


def _ptp_findings(lines: list[ClaimLine], edits: list[PtpEdit], codes) -> list[Finding]:
    by_pair: dict[tuple[str, str], list[PtpEdit]] = defaultdict(list)
    for edit in edits:
        by_pair[(edit.column1, edit.column2)].append(edit)
    found = []
    for first, second in combinations(lines, 2):
        if first.dos != second.dos or first.key == second.key:
            continue
        for pair in ((first.key, second.key), (second.key, first.key)):
            for edit in by_pair.get(pair, ()):
                if edit.in_force_on(first.dos):
                    found.append(_ptp_finding(edit, first, second, codes))
    return found


def _mue_findings(lines: list[ClaimLine], rows, codes) -> list[Finding]:
    found = []
    per_day: dict[tuple[str, datetime.date], list[ClaimLine]] = defaultdict(list)
    for line in lines:
        per_day[(line.key, line.dos)].append(line)
    for (key, dos), group in per_day.items():
        limit = mue_governing(rows, code=key, day=dos)
        if limit is None:
            continue
        spelled = _spelled(key, codes)
        meaning = MUE_CHECK_MEANINGS.get(limit.adjudication, "")
        label = MueValue.Adjudication(limit.adjudication).label
        common = {
            "severity": "deny",
            "kind": "mue",
            "dos": dos.isoformat(),
            "edition": limit.edition_label,
            "url": _code_url(codes.get(key), dos=dos, section="ncci"),
            "url_label": f"{spelled} MUE",
        }
        why = f"Adjudication {label}. {meaning} MUE rationale: {limit.rationale or 'none given'}."
        if limit.is_line_edit:
            for line in group:
                if line.units > limit.value:
                    found.append(
                        Finding(
                            lines=[line.number],
                            codes=[spelled],
                            title=f"{spelled}: {line.units} units on line {line.number}, "
                            f"over its MUE of {limit.value}",
                            detail=why,
                            **common,
                        )
                    )
            continue
        total = sum(line.units for line in group)
        if total > limit.value:
            numbers = [line.number for line in group]
            where = f"line {numbers[0]}" if len(numbers) == 1 else f"lines {_listed(numbers)}"
            found.append(
                Finding(
                    lines=numbers,
                    codes=[spelled],
                    title=f"{spelled}: {total} units on {dos:%b %-d, %Y} ({where}), over its "
                    f"MUE of {limit.value}",
                    detail=why,
                    **common,
                )
            )
    return found


def _listed(numbers: list[int]) -> str:
    text = [str(n) for n in numbers]
    return ", ".join(text[:-1]) + f" and {text[-1]}" if len(text) > 1 else text[0]


def _addon_findings(lines: list[ClaimLine], codes, primaries, rvus) -> list[Finding]:
    found = []
    on_day: dict[datetime.date, set[str]] = defaultdict(set)
    for line in lines:
        on_day[line.dos].add(line.key)
    for line in lines:
        code = codes.get(line.key)
        zzz = any(row.global_days == "ZZZ" for row in rvus.get(line.key, ()))
        if code is None or not (code.is_addon or zzz):
            continue
        wanted = primaries.get(line.key, frozenset())
        edition = f"{code.system.short_name} {code.system.edition}".strip()
        url = _code_url(code, dos=line.dos, section="ncci")
        if not wanted:
            found.append(
                Finding(
                    severity="check",
                    kind="addon",
                    lines=[line.number],
                    codes=[code.code],
                    dos=line.dos.isoformat(),
                    title=f"{code.code} is an add-on code; its primary codes are not on file",
                    detail="An add-on code is paid only with its primary procedure on the same "
                    "date of service; make sure the claim carries one.",
                    edition=edition,
                    url=url,
                    url_label=f"{code.code} code page",
                )
            )
            continue
        if wanted & on_day[line.dos]:
            continue
        names = _listed(sorted(_spelled(key, codes) for key in wanted))
        found.append(
            Finding(
                severity="deny",
                kind="addon",
                lines=[line.number],
                codes=[code.code],
                dos=line.dos.isoformat(),
                title=f"Add-on code {code.code} without its primary code on {line.dos:%b %-d, %Y}",
                detail=f"{code.code} is paid only with one of its primary codes ({names}) on "
                "the same date of service; none is on the claim for that date.",
                edition=edition,
                url=url,
                url_label=f"{code.code} primary codes",
            )
        )
    return found


def _modifier_findings(lines: list[ClaimLine], codes, known, rvus) -> list[Finding]:
    found = []
    for line in lines:
        for modifier in line.modifiers:
            if modifier not in known:
                found.append(
                    Finding(
                        severity="check",
                        kind="modifier",
                        lines=[line.number],
                        codes=[_spelled(line.key, codes)],
                        dos=line.dos.isoformat(),
                        title=f"Modifier {modifier} on line {line.number} is not in our "
                        "modifier table",
                        detail="Check the modifier: payers reject modifiers that are not "
                        "valid for the date of service.",
                        edition="",
                    )
                )
        if "50" not in line.modifiers:
            continue
        code = codes.get(line.key)
        release, _ = release_lines(lines=rvus.get(line.key, []), day=line.dos)
        in_force = release[0] if release else None
        indicator = in_force.bilat_surg if in_force else ""
        if indicator == "1":
            continue
        spelled = _spelled(line.key, codes)
        meaning = BILATERAL_MEANINGS.get(indicator, "The fee schedule has no line for the code.")
        found.append(
            Finding(
                severity="check",
                kind="bilateral",
                lines=[line.number],
                codes=[spelled],
                dos=line.dos.isoformat(),
                title=f"Modifier 50 on {spelled}, whose bilateral indicator is "
                f"{indicator or 'not on file'}",
                detail=f"Modifier 50 is paid at 150% only under bilateral indicator 1. "
                f"Indicator {indicator or '—'}: {meaning}",
                edition=f"PFS {in_force.edition}" if in_force else "",
                url=_code_url(code, dos=line.dos, section="payment"),
                url_label=f"{spelled} payment indicators" if code else "",
            )
        )
    return found


# --- The whole claim ---------------------------------------------------------------------------


def claim_check(*, lines: list[ClaimLine], locality: Locality | None = None) -> CheckResult:
    """Every finding about the claim, and its payment in the locality (None: national), in
    four queries whatever its size; the locality comes with its GPCIs from `locality_find`."""
    keys = sorted({line.key for line in lines})
    days = sorted({line.dos for line in lines})
    codes = procedure_codes(keys)
    primaries = {key: frozenset(code.primary_keys) for key, code in codes.items()}
    edits, mue_rows = edits_among_dates(keys, days=days)
    rvus: dict[str, list[RvuLine]] = defaultdict(list)
    rvu_rows = list(RvuLine.objects.filter(code__in=keys).defer("extra"))
    for row in rvu_rows:
        rvus[row.code].append(row)
    modifiers = sorted({m for line in lines for m in line.modifiers})
    known = set(Modifier.objects.filter(code__in=modifiers).values_list("code", flat=True))

    findings: list[Finding] = []
    for line in lines:
        findings += _code_findings(line, codes.get(line.key))
    findings += _ptp_findings(lines, edits, codes)
    findings += _mue_findings(lines, mue_rows, codes)
    findings += _addon_findings(lines, codes, primaries, rvus)
    findings += _modifier_findings(lines, codes, known, rvus)
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], min(f.lines), f.kind))

    place = f"{locality.label} ({locality.key})" if locality else "National"
    prices = claim_prices(lines=lines, rvu_lines=rvu_rows, locality=locality)
    results, total, priced_all = [], Decimal("0.00"), True
    pfs_editions: set[str] = set()
    for line in lines:
        code = codes.get(line.key)
        price = prices[line.number]
        amounts = None if price.refusal else _paid(price)
        if amounts is None:
            priced_all = False
        else:
            total += amounts.participating
        pfs_editions.update(_price_editions(price))
        worst = min(
            (f.severity for f in findings if line.number in f.lines),
            key=SEVERITY_ORDER.__getitem__,
            default="",
        )
        results.append(
            LineResult(
                number=line.number,
                code=code.code if code else line.key,
                url=_code_url(code, dos=line.dos),
                short=code.short_descriptor if code else "",
                modifiers=list(line.modifiers),
                units=line.units,
                dos=line.dos.isoformat(),
                facility=line.facility,
                payment=f"{amounts.participating:.2f}" if amounts is not None else "",
                payment_note=_price_note(price, place=place),
                worst=worst,
                adjustments=[f"{a.modifier} at {a.percent}" for a in price.adjustments],
                payment_refused=bool(price.refusal),
                payment_url=_code_url(
                    code, dos=line.dos, section="payment", priced=True, locality=locality
                ),
            )
        )
    editions = sorted({f.edition for f in findings if f.edition} | pfs_editions)
    if locality:
        basis = f"Medicare participating amounts for {place}"
    else:
        basis = "National Medicare participating amounts (no locality chosen)"
    if not priced_all:
        basis += "; lines without an amount are left out of the total"
    return CheckResult(
        lines=results,
        findings=findings,
        total_payment=f"{total:.2f}",
        payment_basis=basis,
        editions=editions,
        locality=locality.key if locality else "",
    )


def system_of(key: str) -> str | None:
    """The procedure code system a key is spelled for (CPT or HCPCS), or None."""
    for slug in PROCEDURE_SYSTEMS:
        if SYSTEMS[slug].canonical(key):
            return slug
    return None
