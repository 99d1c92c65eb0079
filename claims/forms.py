"""Reading a claim: the line-by-line form, the paste box, and the limits on both.

Everything a person can type is checked here, before any rule runs: a bad code spelling, a
malformed modifier, units outside 1–999, a date before 2000 or more than a year ahead, a NUL
byte or an oversized paste each get a message saying what to fix. A well-formed code that we
do not carry is not an error here: the check reports it as a finding.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory

from claims.check import ClaimLine, system_of
from codes.search import DASHES, code_token_key

MAX_LINES = 50
MAX_MODIFIERS = 4
MAX_UNITS = 999
MAX_PASTE = 10_000  # characters: 50 lines of 200 characters each
EARLIEST_DOS = datetime.date(2000, 1, 1)
DOS_DAYS_AHEAD = 365
NEW_ROWS = 5

PLACES = [("nonfacility", "Non-facility (office)"), ("facility", "Facility")]
MODIFIER = re.compile(r"[0-9A-Z]{2}")
SEPARATORS = re.compile(r"[\s,;]+")
UNITS_TOKEN = re.compile(r"(?:[x×*](\d+)|(\d+)[x×]|units?[=:](\d+))", re.IGNORECASE)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
FACILITY_WORDS = {"fac": True, "facility": True, "nonfac": False, "non-facility": False}


def dos_check(day: datetime.date, *, today: datetime.date) -> None:
    if day < EARLIEST_DOS:
        raise ValidationError(
            f"{day:%b %-d, %Y} is before 2000; the edits we carry start later.", code="too_early"
        )
    if day > today + datetime.timedelta(days=DOS_DAYS_AHEAD):
        raise ValidationError(
            f"{day:%b %-d, %Y} is more than a year ahead; enter the date the service was or "
            "will be given.",
            code="too_late",
        )


def code_read(text: str) -> str:
    """The key of a typed claim-line code, or a ValidationError saying why it cannot be one."""
    shown = text if len(text) <= 20 else text[:20] + "…"
    key = code_token_key(text)
    if key is None:
        raise ValidationError(
            f"“{shown}” is not a CPT or HCPCS code (such as 64494 or J1100).", code="bad_code"
        )
    if "." in text or system_of(key) is None:
        raise ValidationError(
            f"“{shown}” is not a CPT or HCPCS code: claim lines take procedure codes, not "
            "diagnosis codes.",
            code="not_procedure",
        )
    return key


def modifiers_read(text: str) -> tuple[str, ...]:
    parts = [part for part in SEPARATORS.split(text.translate(DASHES).replace("-", " ")) if part]
    modifiers = tuple(unicodedata.normalize("NFKC", part).upper() for part in parts)
    for modifier in modifiers:
        if not MODIFIER.fullmatch(modifier):
            shown = modifier if len(modifier) <= 12 else modifier[:12] + "…"
            raise ValidationError(
                f"“{shown}” is not a modifier: modifiers are two letters or digits, such as "
                "25, 59 or XS.",
                code="bad_modifier",
            )
    if len(modifiers) > MAX_MODIFIERS:
        raise ValidationError(
            f"A claim line takes up to {MAX_MODIFIERS} modifiers; this one has {len(modifiers)}.",
            code="too_many_modifiers",
        )
    return modifiers


class DateInput(forms.DateInput):
    input_type = "date"


class ClaimForm(forms.Form):
    dos = forms.DateField(
        label="Date of service",
        widget=DateInput(),
        help_text="Every line's date unless the line gives its own.",
    )
    place = forms.ChoiceField(label="Place of service", choices=PLACES, initial="nonfacility")
    paste = forms.CharField(
        label="Paste lines",
        required=False,
        max_length=MAX_PASTE,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "autocomplete": "off"}),
        help_text="One line each: the code, its modifiers, units as x2, and optionally a date "
        "and fac or nonfac. For example: 64493-50, 64494-50 x1, 99213-25, 77003 XS.",
    )

    def __init__(self, *args, today: datetime.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.pasted: list[PastedLine] = []

    def clean_dos(self) -> datetime.date:
        day = self.cleaned_data["dos"]
        dos_check(day, today=self.today)
        return day

    def clean_paste(self) -> str:
        text = self.cleaned_data["paste"]
        errors = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            try:
                self.pasted.append(paste_line_read(raw, today=self.today))
            except ValidationError as error:
                errors.append(f"Pasted line {number}: {' '.join(error.messages)}")
            if len(errors) >= 10:
                errors.append("(further lines not read)")
                break
        if errors:
            raise ValidationError(errors)
        return text


class LineForm(forms.Form):
    code = forms.CharField(label="Code", required=False, max_length=20)
    modifiers = forms.CharField(
        label="Modifiers", required=False, max_length=20, help_text="Up to 4, e.g. 50 XS"
    )
    units = forms.IntegerField(
        label="Units", required=False, min_value=1, max_value=MAX_UNITS, initial=1
    )
    dos = forms.DateField(label="Date of service", required=False, widget=DateInput())
    place = forms.ChoiceField(
        label="Place", required=False, choices=[("", "As the claim"), *PLACES]
    )

    def __init__(self, *args, today: datetime.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["code"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false", "class": "claim-line__code"}
        )

    def clean_code(self) -> str:
        text = self.cleaned_data["code"].strip()
        return code_read(text) if text else ""

    def clean_modifiers(self) -> tuple[str, ...]:
        return modifiers_read(self.cleaned_data["modifiers"])

    def clean_dos(self) -> datetime.date | None:
        day = self.cleaned_data["dos"]
        if day is not None:
            dos_check(day, today=self.today)
        return day


LineFormSet = formset_factory(
    LineForm,
    extra=0,
    max_num=MAX_LINES,
    absolute_max=MAX_LINES,
    validate_max=True,
    can_delete=True,
)


@dataclass(frozen=True)
class PastedLine:
    key: str
    modifiers: tuple[str, ...]
    units: int
    dos: datetime.date | None
    facility: bool | None


def _units(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_UNITS:
        raise ValidationError(f"units must be 1 to {MAX_UNITS}; got {value:,}.", code="units")
    return value


def _date(token: str, *, today: datetime.date) -> datetime.date | None:
    try:
        if ISO_DATE.fullmatch(token):
            day = datetime.date.fromisoformat(token)
        elif match := US_DATE.fullmatch(token):
            month, day_, year = (int(g) for g in match.groups())
            day = datetime.date(year, month, day_)
        else:
            return None
    except ValueError:
        raise ValidationError(f"“{token}” is not a date.", code="bad_date") from None
    dos_check(day, today=today)
    return day


def paste_line_read(raw: str, *, today: datetime.date) -> PastedLine:
    """One pasted line: `64493-50`, `64494-50 x1`, `99213-25`, `77003 XS`, `20610 2024-06-03`."""
    text = unicodedata.normalize("NFKC", raw).translate(DASHES)
    tokens = [token for token in SEPARATORS.split(text) if token]
    head, *attached = tokens[0].split("-")
    key = code_read(head)
    units, dos, facility = 1, None, None
    for token in tokens[1:]:
        lowered = token.lower()
        if lowered in FACILITY_WORDS:
            facility = FACILITY_WORDS[lowered]
        elif match := UNITS_TOKEN.fullmatch(token):
            units = _units(next(group for group in match.groups() if group))
        elif (day := _date(token, today=today)) is not None:
            dos = day
        else:
            attached += [part for part in token.split("-") if part]
    return PastedLine(
        key=key,
        modifiers=modifiers_read(" ".join(attached)) if attached else (),
        units=units,
        dos=dos,
        facility=facility,
    )


def claim_lines(*, form: ClaimForm, formset) -> list[ClaimLine]:
    """The claim's lines from a valid form and formset: the rows, then the pasted lines.
    Adds a form error (and returns []) when there are none or more than MAX_LINES."""
    claim_dos = form.cleaned_data["dos"]
    claim_facility = form.cleaned_data["place"] == "facility"
    lines: list[ClaimLine] = []
    for row in formset.forms:
        data = row.cleaned_data
        if not data or not data.get("code") or data.get("DELETE"):
            continue
        place = data.get("place")
        lines.append(
            ClaimLine(
                number=len(lines) + 1,
                key=data["code"],
                modifiers=data["modifiers"],
                units=data.get("units") or 1,
                dos=data.get("dos") or claim_dos,
                facility=place == "facility" if place else claim_facility,
            )
        )
    for pasted in form.pasted:
        lines.append(
            ClaimLine(
                number=len(lines) + 1,
                key=pasted.key,
                modifiers=pasted.modifiers,
                units=pasted.units,
                dos=pasted.dos or claim_dos,
                facility=claim_facility if pasted.facility is None else pasted.facility,
            )
        )
    if not lines:
        form.add_error(None, "Enter at least one line: a code in the table or in the paste box.")
        return []
    if len(lines) > MAX_LINES:
        form.add_error(
            None,
            f"A claim takes up to {MAX_LINES} lines; this one has {len(lines)}. Split it and "
            "check each part.",
        )
        return []
    return lines
