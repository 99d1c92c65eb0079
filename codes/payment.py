"""Medicare payment under the Physician Fee Schedule: the one place it is worked out.

The code page prices one code; the claim check prices the lines of a claim. Both call
`price_lines`, which reads in two queries whatever the number of lines (the fee schedule lines
of every code, then the locality's GPCIs) and works out each line:

    fee = [(work RVU × work GPCI) + (PE RVU × PE GPCI) + (MP RVU × MP GPCI)] × conversion factor

with the non-facility or the facility practice expense RVU, rounded to the cent (half up), as
CMS's own figures are. National amounts use GPCIs of 1. The release used is the one in force on
the date of service: the newest PFS release starting on or before it, and the GPCIs of the
newest year not after it. Modifier percentages apply to that rounded fee and are rounded again;
the non-participating amount is 95% of the participating one and the limiting charge 115% of
that, both worked from the participating amount.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from codes.models import Gpci, Locality, RvuLine

CENTS = Decimal("0.01")
ONE = Decimal("1")
NON_PARTICIPATING = Decimal("0.95")
LIMITING = Decimal("1.15")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
PRICED_STATUSES = {"A", "R", "T"}

# Modifiers that name a line of their own in the PFS file (professional, technical component,
# discontinued procedure): the RVUs of that line are used.
COMPONENT_MODIFIERS = ("26", "TC", "53")
MULTIPLE_PROCEDURE = "51"
BILATERAL = "50"
CO_SURGEONS = "62"
ASSISTANT_SURGEON = ("80", "82")
ASSISTANT_NON_PHYSICIAN = "AS"
# Modifiers whose payment rules this module does not work out: pricing the line without them
# would show a wrong amount.
NOT_WORKED_OUT = {"52", "54", "55", "56", "66", "73", "74", "78", "81", "CT", "FY"}

BILATERAL_RATE = Decimal("1.50")
SECOND_PROCEDURE_RATE = Decimal("0.50")
CO_SURGEON_RATE = Decimal("0.625")
ASSISTANT_RATE = Decimal("0.16")
NON_PHYSICIAN_ASSISTANT_RATE = Decimal("0.85")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def release_start(*, edition: str, year: int) -> datetime.date:
    """The first day a PFS release applies: `2025-JAN` → January 1, 2025; `2023-APR` → April 1."""
    suffix = edition.rsplit("-", 1)[-1].upper()[:3]
    month = MONTHS.index(suffix) + 1 if suffix in MONTHS else 1
    return datetime.date(year, month, 1)


@dataclass(frozen=True)
class PriceRequest:
    """One line to price: a code, its modifiers (up to four), units, and where it was done
    when known (True facility, False office; None prices both settings alike)."""

    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    facility: bool | None = None


@dataclass(frozen=True)
class Amounts:
    """What Medicare allows for a line in one setting."""

    participating: Decimal
    non_participating: Decimal
    limiting_charge: Decimal

    @classmethod
    def from_participating(cls, amount: Decimal) -> Amounts:
        non_par = amount * NON_PARTICIPATING
        return cls(
            participating=amount,
            non_participating=cents(non_par),
            limiting_charge=cents(non_par * LIMITING),
        )


@dataclass(frozen=True)
class Adjustment:
    """A percentage a modifier (or the multiple-procedure rule) applies, and why."""

    modifier: str
    rate: Decimal
    reason: str

    @property
    def percent(self) -> str:
        return f"{(self.rate * 100).normalize():f}%"


@dataclass
class LinePrice:
    """A priced line, or the reason it cannot be priced (`refusal`)."""

    request: PriceRequest
    day: datetime.date
    line: RvuLine | None = None
    gpci: Gpci | None = None
    locality: Locality | None = None
    release_in_force: bool = True  # False: the date of service is before every release on file
    gpci_in_force: bool = True
    nonfacility_fee: Decimal | None = None  # one unit, before modifier percentages
    facility_fee: Decimal | None = None
    nonfacility: Amounts | None = None  # all units, after modifier percentages
    facility: Amounts | None = None
    adjustments: list[Adjustment] = field(default_factory=list)
    refusal: str = ""

    @property
    def priced(self) -> bool:
        return not self.refusal and (self.nonfacility is not None or self.facility is not None)

    @property
    def rate(self) -> Decimal:
        rate = ONE
        for adjustment in self.adjustments:
            rate *= adjustment.rate
        return rate

    @property
    def edition(self) -> str:
        return self.line.edition if self.line else ""

    @property
    def conversion_factor(self) -> Decimal | None:
        return self.line.conversion_factor if self.line else None

    @property
    def gpci_year(self) -> int | None:
        return self.gpci.year if self.gpci else None

    @property
    def gpcis(self) -> tuple[Decimal, Decimal, Decimal]:
        if self.gpci is None:
            return ONE, ONE, ONE
        return self.gpci.work, self.gpci.pe, self.gpci.mp

    def ranking_fee(self) -> Decimal:
        """The amount the multiple-procedure rule ranks by: the setting of the claim line when
        known, else the non-facility amount (the facility one when the office has none)."""
        if self.request.facility:
            fee = self.facility_fee if self.facility_fee is not None else self.nonfacility_fee
        else:
            fee = self.nonfacility_fee if self.nonfacility_fee is not None else self.facility_fee
        return fee or Decimal(0)


def gpci_for(*, gpcis: Sequence[Gpci], day: datetime.date) -> tuple[Gpci | None, bool]:
    """The GPCIs of the newest year not after the date of service (or the oldest, flagged)."""
    if not gpcis:
        return None, True
    ordered = sorted(gpcis, key=lambda g: g.year)
    in_force = [g for g in ordered if g.year <= day.year]
    return (in_force[-1], True) if in_force else (ordered[0], False)


def release_lines(*, lines: Sequence[RvuLine], day: datetime.date) -> tuple[list[RvuLine], bool]:
    """One code's lines of the release in force on the date of service (or the oldest
    release, flagged False), the line without a modifier first."""
    if not lines:
        return [], True
    releases = sorted({(release_start(edition=x.edition, year=x.year), x.edition) for x in lines})
    in_force = [release for release in releases if release[0] <= day]
    _, edition = in_force[-1] if in_force else releases[0]
    chosen = sorted((x for x in lines if x.edition == edition), key=lambda x: x.modifier)
    return chosen, bool(in_force)


def locality_gpcis(*, locality: Locality | None) -> list[Gpci]:
    """All the GPCI years of a locality (one query unless `locality_find` read them), or none
    for national amounts."""
    if locality is None:
        return []
    held = getattr(locality, "gpci_years", None)
    if held is not None:
        return held
    found = list(Gpci.objects.filter(locality_id=locality.pk))
    for gpci in found:
        gpci.locality = locality
    locality.gpci_years = found
    return found


def locality_find(*, key: str | None = None, pk: int | None = None) -> Locality | None:
    """A locality by its `13202-01` key (or id) with all its GPCI years, in one query; None
    for a malformed or unknown key, or a locality no GPCI file has priced."""
    if key is not None:
        parsed = Locality.parse_key(key)
        if parsed is None:
            return None
        found = Gpci.objects.filter(locality__mac=parsed[0], locality__number=parsed[1])
    elif pk is not None:
        found = Gpci.objects.filter(locality_id=pk)
    else:
        return None
    gpcis = list(found.select_related("locality"))
    if not gpcis:
        return None
    locality = gpcis[0].locality
    for gpci in gpcis:
        gpci.locality = locality
    locality.gpci_years = gpcis
    return locality


SEARCH_LIMIT = 30


def locality_search(*, text: str) -> list[Locality]:
    """Localities whose state, name or counties match the words typed (one query)."""
    words = " ".join(text.split())[:100]
    if not words:
        return []
    return list(
        Locality.objects.filter(gpcis__isnull=False).distinct().matching(words)[:SEARCH_LIMIT]
    )


def fee(
    *, line: RvuLine, pe_rvu: Decimal | None, gpcis: tuple[Decimal, Decimal, Decimal]
) -> Decimal | None:
    """One unit's fee in one setting; None where the PE RVU does not apply (NA)."""
    if pe_rvu is None:
        return None
    work, pe, mp = gpcis
    total = line.work_rvu * work + pe_rvu * pe + line.mp_rvu * mp
    return cents(total * line.conversion_factor)


def price_lines(
    lines: Sequence[PriceRequest],
    *,
    day: datetime.date,
    locality: Locality | None,
    rvu_lines: Sequence[RvuLine] | None = None,
    same_claim: bool = True,
) -> list[LinePrice]:
    """Price the lines of one date of service in one locality (None: national), in at most
    two queries whatever their number: the codes' fee schedule lines (none when `rvu_lines`
    already holds them) and the locality's GPCIs (none when `locality_find` read them).
    `same_claim=False` prices the lines as alternatives, without the multiple-procedure
    ranking (the code page's 26/TC lines)."""
    codes = {request.code.strip().upper() for request in lines}
    by_code: dict[str, list[RvuLine]] = {code: [] for code in codes}
    found = RvuLine.objects.filter(code__in=codes) if rvu_lines is None else rvu_lines
    for row in found:
        if row.code in by_code:
            by_code[row.code].append(row)
    gpcis = locality_gpcis(locality=locality)
    gpci, gpci_in_force = gpci_for(gpcis=gpcis, day=day)
    prices = [
        _price_one(
            request,
            rows=by_code[request.code.strip().upper()],
            day=day,
            locality=locality,
            gpci=gpci,
            gpci_in_force=gpci_in_force,
        )
        for request in lines
    ]
    for claim in [prices] if same_claim else [[price] for price in prices]:
        _multiple_procedures(claim)
    for price in prices:
        _finish(price)
    return prices


def price_line(
    request: PriceRequest, *, day: datetime.date, locality: Locality | None
) -> LinePrice:
    """One line on its own (a line with 51 is taken as a second procedure)."""
    return price_lines([request], day=day, locality=locality)[0]


def _price_one(
    request: PriceRequest,
    *,
    rows: list[RvuLine],
    day: datetime.date,
    locality: Locality | None,
    gpci: Gpci | None,
    gpci_in_force: bool,
) -> LinePrice:
    price = LinePrice(
        request=request, day=day, locality=locality, gpci=gpci, gpci_in_force=gpci_in_force
    )
    modifiers = [m.strip().upper() for m in request.modifiers if m.strip()]
    code = request.code.strip().upper()
    if request.units < 1:
        price.refusal = "Units must be 1 or more."
        return price
    release, price.release_in_force = release_lines(lines=rows, day=day)
    if not release:
        price.refusal = f"{code} has no line in the Medicare Physician Fee Schedule files on file."
        return price
    lines = {row.modifier: row for row in release}
    wanted = [m for m in modifiers if m in COMPONENT_MODIFIERS]
    if len(wanted) > 1:
        price.refusal = f"Modifiers {' and '.join(wanted)} cannot be billed on one line."
        return price
    if wanted and wanted[0] not in lines:
        base = lines.get("")
        pctc = base.pctc_indicator if base else ""
        price.line = base
        price.refusal = (
            f"The {release[0].edition} fee schedule has no {code}-{wanted[0]} line"
            + (f" (PC/TC indicator {pctc})" if pctc else "")
            + f": modifier {wanted[0]} does not apply to {code}."
        )
        return price
    line = price.line = lines.get(wanted[0] if wanted else "")
    if line is None:
        price.refusal = f"The fee schedule has {code} only with a modifier ({', '.join(lines)})."
        return price
    if line.status_code and line.status_code not in PRICED_STATUSES:
        price.refusal = (
            f"Status {line.status_code}: the fee schedule sets no payment for {code} "
            "(see the payment indicators)."
        )
        return price
    unknown = sorted(set(modifiers) & NOT_WORKED_OUT)
    if unknown:
        price.refusal = (
            f"Modifier {', '.join(unknown)} changes the payment by rules this page does not work "
            "out; ask the Medicare contractor."
        )
        return price
    refusal = _modifier_rules(price, line=line, modifiers=modifiers)
    if refusal:
        price.refusal = refusal
        return price
    gpcis = price.gpcis
    price.nonfacility_fee = fee(line=line, pe_rvu=line.nonfacility_pe_rvu, gpcis=gpcis)
    price.facility_fee = fee(line=line, pe_rvu=line.facility_pe_rvu, gpcis=gpcis)
    return price


def _modifier_rules(price: LinePrice, *, line: RvuLine, modifiers: list[str]) -> str:
    """Add the percentage each modifier earns under the line's indicators; or the reason an
    indicator forbids one."""
    code = line.code
    if BILATERAL in modifiers:
        if line.bilat_surg != "1":
            return (
                f"Modifier 50 is not priced for {code}: bilateral indicator "
                f"{line.bilat_surg or 'blank'}" + _meaning("bilateral", line.bilat_surg)
            )
        price.adjustments.append(
            Adjustment("50", BILATERAL_RATE, "Bilateral indicator 1: both sides at 150%.")
        )
    if CO_SURGEONS in modifiers:
        if line.co_surg not in {"1", "2"}:
            return (
                f"Modifier 62 is not priced for {code}: co-surgery indicator "
                f"{line.co_surg or 'blank'}" + _meaning("co_surgery", line.co_surg)
            )
        price.adjustments.append(
            Adjustment(
                "62",
                CO_SURGEON_RATE,
                f"Co-surgery indicator {line.co_surg}: each surgeon is paid 62.5%.",
            )
        )
    assistants = [m for m in modifiers if m in (*ASSISTANT_SURGEON, ASSISTANT_NON_PHYSICIAN)]
    if assistants:
        if line.asst_surg != "2":
            return (
                f"Modifier {assistants[0]} is not priced for {code}: assistant-at-surgery "
                f"indicator {line.asst_surg or 'blank'}" + _meaning("assistant", line.asst_surg)
            )
        price.adjustments.append(
            Adjustment(
                assistants[0],
                ASSISTANT_RATE,
                "Assistant-at-surgery indicator 2: an assistant at surgery is paid 16%.",
            )
        )
        if ASSISTANT_NON_PHYSICIAN in assistants:
            price.adjustments.append(
                Adjustment(
                    "AS",
                    NON_PHYSICIAN_ASSISTANT_RATE,
                    "A PA, NP or CNS assisting (AS) is paid 85% of the assistant amount.",
                )
            )
    if MULTIPLE_PROCEDURE in modifiers and line.mult_proc != "2":
        return (
            f"Modifier 51 is not priced for {code}: multiple-procedure indicator "
            f"{line.mult_proc or 'blank'}" + _meaning("multiple", line.mult_proc)
        )
    return ""


def _meaning(kind: str, value: str) -> str:
    # The plain-language meanings live with the code page's sections, which import this
    # module; read them at call time.
    from codes.knowledge import (
        ASSISTANT_MEANINGS,
        BILATERAL_MEANINGS,
        CO_SURGERY_MEANINGS,
        MULT_PROC_MEANINGS,
    )

    meanings = {
        "bilateral": BILATERAL_MEANINGS,
        "co_surgery": CO_SURGERY_MEANINGS,
        "assistant": ASSISTANT_MEANINGS,
        "multiple": MULT_PROC_MEANINGS,
    }[kind]
    text = meanings.get(value, "")
    return f" — {text}" if text else "."


def _multiple_procedures(prices: list[LinePrice]) -> None:
    """Multiple-procedure indicator 2: on one day the highest-paid procedure is paid in full
    and every other one at 50%. Lines are ranked by their fee after the other modifiers; one
    such line alone is reduced only when it carries 51 (the claim says another was done)."""
    ranked = [p for p in prices if not p.refusal and p.line is not None and p.line.mult_proc == "2"]
    if len(ranked) == 1:
        only = ranked[0]
        if MULTIPLE_PROCEDURE in {m.strip().upper() for m in only.request.modifiers}:
            only.adjustments.append(
                Adjustment(
                    "51",
                    SECOND_PROCEDURE_RATE,
                    "Multiple-procedure indicator 2: a second procedure the same day is paid 50%.",
                )
            )
        return
    ranked.sort(key=lambda p: p.ranking_fee() * p.rate, reverse=True)
    for position, price in enumerate(ranked[1:], start=2):
        price.adjustments.append(
            Adjustment(
                "51",
                SECOND_PROCEDURE_RATE,
                f"Multiple-procedure indicator 2: procedure {position} of {len(ranked)} by fee, "
                "paid 50%.",
            )
        )


def _finish(price: LinePrice) -> None:
    if price.refusal:
        return
    rate, units = price.rate, price.request.units
    for setting in ("nonfacility", "facility"):
        one = getattr(price, f"{setting}_fee")
        if one is None:
            continue
        adjusted = cents(one * rate) if rate != ONE else one
        setattr(price, setting, Amounts.from_participating(adjusted * units))
