"""Refusing protected health information before a question is stored.

A coding question needs codes, a date of service, a payer and the clinical facts; it never needs
who the patient is. `phi_find` looks for the identifiers a coder is most likely to paste from a
chart: a name after "patient" or "Mr"/"Mrs", a date of birth, a Social Security number, a
medical record or account number, a phone number, an email address and a street address.

The patterns are deliberately anchored on labels and shapes that coding text does not have, so
that "99213", "M54.50", "L4-L5", "3 units", "DOS 01/15/2024" and "64493-50" pass: a date is PHI
only when it is labelled as a birth date, a number only when it is labelled as a record or has
the shape of an SSN or phone number. tests/consult/phi_corpus.py holds the examples both ways.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_DATE = r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|[A-Za-z]{3,9}\.? \d{1,2},? \d{4})"
_WORD = r"[A-Z](?:[a-z]+|['’][A-Z][a-z]+)(?:-[A-Z]?[a-z]+)?"
_NAME = _WORD + r"(?:\s+[A-Z]\.)?(?:\s+" + _WORD + ")?"
# Capitalised words that follow "patient" in coding questions without being a name.
_NOT_NAMES = (
    "Medicare|Medicaid|Tricare|Commercial|Advantage|Aetna|Cigna|Humana|United|Anthem|Blue|"
    "History|Presents|Presented|Was|Is|Has|Had|Who|With|Without|The|This|That|Encounter|Visit|"
    "Education|Counseling|Care|Status|Type|Class|Came|Comes|Returns|Returned|Underwent|Received|"
    "Complains|Reports|Denies|Needs|Needed|Requires|Required|Seen|Evaluated|Admitted|Discharged"
)

PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    (
        "email",
        "an email address",
        re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    ),
    (
        "ssn",
        "a Social Security number",
        re.compile(
            r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"
            r"|(?i:\bSSN|\bsocial security(?: number| no\.?| #)?)\s*[:#]?\s*\d[\d -]{7,10}\d"
        ),
    ),
    (
        "dob",
        "a date of birth",
        re.compile(
            r"(?i:\bD\.?O\.?B\.?|\bdate of birth|\bbirth ?date|\bbirthday|\bborn(?: on)?)"
            r"\s*(?:is|was|of)?\s*[:#-]?\s*" + _DATE
        ),
    ),
    (
        "record",
        "a medical record or account number",
        re.compile(
            r"(?i:\bMRN|\bMR\s?#|\bmedical record(?: number| no\.?| #)?"
            r"|\bchart(?: number| no\.?| #)"
            r"|\bacc(?:oun)?t\.?(?: number| no\.?| #|#)|\bacct\b|\bpatient (?:id|number|no\.?|#)"
            r"|\bmember (?:id|number|no\.?|#)|\bsubscriber (?:id|number|no\.?|#)"
            r"|\bpolicy (?:number|no\.?|#)|\bencounter (?:number|no\.?|#)|\bfin\b)"
            r"\s*(?:is|was)?\s*[:#]?\s*[A-Za-z]{0,3}[-\s]?\d[\d-]{3,}\w*"
        ),
    ),
    (
        "phone",
        "a phone number",
        re.compile(
            r"(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])"
            r"|(?i:\b(?:phone|tel|telephone|cell|mobile|fax)\b\.?)\s*(?:number|no\.?|#)?\s*[:#]?\s*"
            r"\d{10}\b"
        ),
    ),
    (
        "address",
        "a street address",
        re.compile(
            r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){1,3}"
            r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|"
            r"Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Trail|Trl)\b\.?"
            r"|(?i:\bP\.?\s?O\.?\s+box)\s+\d+"
            r"|\b[A-Z][a-z]+(?: [A-Z][a-z]+)?,\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"
        ),
    ),
    (
        "name",
        "a patient's name",
        re.compile(
            r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+" + _NAME + r"|(?i:\b(?:patient|pt\.?|client|resident)"
            r"(?:'s)?(?:\s+name)?(?:\s+is|\s*:)?)\s+(?!(?:"
            + _NOT_NAMES
            + r")\b)"
            + _NAME
            + r"|(?i:\b(?:patient|pt)\b[^.\n]{0,20}?\bnamed)\s+"
            + _NAME
        ),
    ),
)

ADVICE = (
    "Remove anything that identifies the patient: names, dates of birth, record, account and "
    "member numbers, Social Security numbers, phone numbers, email and street addresses. "
    'Keep what coding needs: say "the patient", give an age instead of a birth date, and keep '
    "the codes, the date of service, the payer type and the clinical facts."
)


@dataclass(frozen=True)
class Finding:
    kind: str
    label: str
    start: int
    end: int


def phi_find(text: str) -> list[Finding]:
    """Every span of `text` that looks like PHI, in order, overlaps merged into the first."""
    found: list[Finding] = []
    for kind, label, pattern in PATTERNS:
        for match in pattern.finditer(text):
            found.append(Finding(kind, label, match.start(), match.end()))
    found.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for finding in found:
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            if finding.end > last.end:
                merged[-1] = Finding(last.kind, last.label, last.start, finding.end)
            continue
        merged.append(finding)
    return merged


def phi_highlight(text: str, findings: list[Finding]) -> SafeString:
    """`text`, escaped, with each finding wrapped in <mark> (named for screen readers)."""
    parts: list[str] = []
    at = 0
    for finding in findings:
        parts.append(escape(text[at : finding.start]))
        parts.append(
            f'<mark class="phi-mark" title="Looks like {escape(finding.label)}">'
            f"{escape(text[finding.start : finding.end])}"
            f'<span class="visually-hidden"> (looks like {escape(finding.label)})</span></mark>'
        )
        at = finding.end
    parts.append(escape(text[at:]))
    return mark_safe("".join(parts))
