"""Small factories for tests: plain functions with sensible defaults."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Plan, User
from careers.models import Job
from codes.models import Code, CodeGroup, CodeSystem, Gpci, Locality, RvuLine
from codes.normalize import canonical_code

_counter = itertools.count(1)

SYSTEM_DEFAULTS = {
    "cpt": (
        "Current Procedural Terminology",
        "CPT",
        "American Medical Association",
        "© Copyright 2025 American Medical Association. All rights reserved.",
    ),
    "hcpcs": (
        "Healthcare Common Procedure Coding System Level II",
        "HCPCS",
        "Centers for Medicare & Medicaid Services",
        "HCPCS Level II is in the public domain.",
    ),
    "icd10cm": (
        "International Classification of Diseases, Tenth Revision, Clinical Modification",
        "ICD-10-CM",
        "CDC/NCHS",
        "ICD-10-CM is in the public domain.",
    ),
}


def make_system(slug: str = "cpt") -> CodeSystem:
    name, short, publisher, copyright_line = SYSTEM_DEFAULTS[slug]
    system, _ = CodeSystem.objects.get_or_create(
        slug=slug,
        defaults={
            "name": name,
            "short_name": short,
            "publisher": publisher,
            "edition": "2026",
            "copyright": copyright_line,
        },
    )
    return system


def make_group(
    system: CodeSystem,
    *,
    title: str = "Group",
    parent: CodeGroup | None = None,
    code_from: str = "",
    code_to: str = "",
    kind: str = "range",
) -> CodeGroup:
    n = next(_counter)
    return CodeGroup.objects.create(
        system=system,
        parent=parent,
        slug=f"group-{n}",
        title=title,
        kind=kind,
        code_from=code_from,
        code_to=code_to,
        sort_key=f"{code_from}|{n:05d}",
        depth=0 if parent is None else parent.depth + 1,
    )


def make_code(
    code: str,
    *,
    system: CodeSystem | None = None,
    group: CodeGroup | None = None,
    short: str | None = None,
    long: str | None = None,
    plain: str | None = None,
    **fields,
) -> Code:
    system = system or make_system("cpt")
    canonical = canonical_code(system.slug, code)
    return Code.objects.create(
        system=system,
        code=canonical,
        group=group,
        short_descriptor=short or f"Short descriptor {canonical}",
        long_descriptor=long or f"Official descriptor of {canonical} as published.",
        plain_language=plain if plain is not None else f"Plain words about {canonical}. More text.",
        **fields,
    )


def make_user(
    email: str | None = None,
    *,
    password: str = "correct-horse-battery-9",
    verified: bool = True,
    plan: Plan | None = None,
    **fields,
) -> User:
    email = email or f"coder{next(_counter)}@example.com"
    user = User.objects.create_user(email=email, password=password, plan=plan, **fields)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
    user.refresh_from_db()
    return user


def make_plan(*, views: int | None = None, slug: str = "professional") -> Plan:
    return Plan.objects.create(slug=slug, name=slug.title(), views_per_period=views)


# Rows of the CMS PFS relative value file PPRRVU25_JAN1.csv (January 2025 release), as
# published: (status, work, non-facility PE, facility PE, MP, PC/TC, global, mult proc,
# bilateral, assistant, co-surgery). None where the file's NA indicator blanks the PE RVU.
PFS_2025 = {
    ("99214", ""): ("A", "1.92", "1.8", "0.83", "0.15", "0", "XXX", "0", "0", "0", "0"),
    ("72148", ""): ("A", "1.48", "4.25", None, "0.09", "1", "XXX", "4", "0", "0", "0"),
    ("72148", "26"): ("A", "1.48", "0.54", "0.54", "0.07", "1", "XXX", "4", "0", "0", "0"),
    ("72148", "TC"): ("A", "0", "3.71", None, "0.02", "1", "XXX", "4", "0", "0", "0"),
    ("20610", ""): ("A", "0.79", "1.04", "0.44", "0.13", "0", "000", "2", "1", "1", "0"),
    ("64493", ""): ("A", "1.52", "3.64", "1.05", "0.16", "0", "000", "2", "1", "2", "0"),
    ("64494", ""): ("A", "1", "1.62", "0.42", "0.1", "0", "ZZZ", "0", "1", "2", "0"),
    ("27447", ""): ("A", "19.6", None, "15.3", "3.98", "0", "090", "2", "1", "2", "1"),
    ("0213T", ""): ("C", "0", "0", "0", "0", "0", "XXX", "0", "1", "0", "0"),
}
PFS_2025_CF = Decimal("32.3465")

# Addendum E rows (GPCI2025.csv, GPCI2026.csv): work, PE, MP.
GPCI_ROWS = {
    ("13202", "01"): {
        "state": "NY",
        "name": "MANHATTAN",
        "counties": "NEW YORK",
        2025: ("1.065", "1.166", "1.656"),
        2026: ("1.064", "1.162", "1.586"),
    },
    ("02102", "01"): {
        "state": "AK",
        "name": "ALASKA",
        "counties": "ALL COUNTIES",
        "notes": ["Work GPCI reflects a 1.5 floor in Alaska established by the MIPPA."],
        2025: ("1.5", "1.081", "0.592"),
        2026: ("1.500", "1.065", "0.551"),
    },
}


def make_rvu_line(code: str, modifier: str = "", **fields) -> RvuLine:
    """A saved fee schedule line: the code's row of the January 2025 file unless told."""
    row = PFS_2025[(code, modifier)]
    status, work, nf_pe, f_pe, mp, pctc, glob, mult, bilat, asst, co = row
    values = {
        "edition": "2025-JAN",
        "year": 2025,
        "status_code": status,
        "work_rvu": Decimal(work),
        "nonfacility_pe_rvu": Decimal(nf_pe) if nf_pe is not None else None,
        "facility_pe_rvu": Decimal(f_pe) if f_pe is not None else None,
        "mp_rvu": Decimal(mp),
        "pctc_indicator": pctc,
        "global_days": glob,
        "mult_proc": mult,
        "bilat_surg": bilat,
        "asst_surg": asst,
        "co_surg": co,
        "team_surg": "0",
        "conversion_factor": PFS_2025_CF,
    }
    values.update(fields)
    for setting in ("nonfacility", "facility"):
        pe = values[f"{setting}_pe_rvu"]
        values.setdefault(
            f"{setting}_total",
            None if pe is None else values["work_rvu"] + pe + values["mp_rvu"],
        )
    return RvuLine.objects.create(code=code, modifier=modifier, **values)


def make_locality(mac: str = "13202", number: str = "01", *, years=(2025, 2026)) -> Locality:
    """A locality with its GPCIs as Addendum E publishes them."""
    row = GPCI_ROWS[(mac, number)]
    locality = Locality.objects.create(
        mac=mac,
        number=number,
        state=row["state"],
        name=row["name"],
        counties=row["counties"],
    )
    for year in years:
        work, pe, mp = (Decimal(v) for v in row[year])
        Gpci.objects.create(
            locality=locality,
            year=year,
            work=work,
            pe=pe,
            mp=mp,
            edition=f"CY{year} Addendum E",
            notes=row.get("notes", []),
        )
    return locality


def make_job(**fields) -> Job:
    """A published, open, remote CPC job unless told otherwise."""
    now = timezone.now()
    values = {
        "title": "Remote Professional Fee Coder",
        "employer_name": "Testwood Clinic",
        "employer_website": "https://testwood.example",
        "city": "Columbus",
        "state": "OH",
        "arrangement": "remote",
        "employment_type": "full-time",
        "setting": "pro-fee",
        "specialties": ["orthopedics"],
        "credentials_required": ["CPC"],
        "experience_years": 2,
        "pay_min": Decimal("25.00"),
        "pay_max": Decimal("30.00"),
        "pay_period": "hour",
        "description": "Code **office visits** and surgery.",
        "apply_url": "https://testwood.example/apply",
        "status": Job.Status.PUBLISHED,
        "posted_at": now - datetime.timedelta(days=1),
        "valid_through": now.date() + datetime.timedelta(days=30),
    }
    values.update(fields)
    job = Job(**values)
    job.save()
    return job


def make_consultant(email: str | None = None, **fields) -> User:
    """A staff account in the Consultants group."""
    from django.contrib.auth.models import Group

    # consult's data migration makes the group; a transactional test's flush removes it.
    user = make_user(email, is_staff=True, **fields)
    user.groups.add(Group.objects.get_or_create(name="Consultants")[0])
    return user


def make_consultation(user: User | None = None, **fields):
    """A waiting consultation, stored directly (asking through the view is tested on its own)."""
    import uuid

    from consult.models import Consultation
    from consult.rules import due_at_compute

    now = timezone.now()
    values = {
        "user": user or make_user(),
        "token": uuid.uuid4(),
        "subject": "Facet injections at two levels",
        "question": "Can 64493 and 64494 be billed together at L4-L5 and L5-S1?",
        "payer": "medicare",
        "specialty": "Pain management",
        "place_of_service": "office",
        "tier": "free",
        "instant_answer": {"heading": "64494", "facts": [], "notes": []},
        "due_at": due_at_compute(asked_at=now, tier="free"),
    }
    values.update(fields)
    return Consultation.objects.create(**values)


def make_import_run(format_name: str = "cms-ncci-ptp", filename: str = "file.txt", **fields):
    from codes.models import ImportRun

    return ImportRun.objects.create(
        format=format_name, filename=filename, sha256="0" * 64, **fields
    )


# The PPRRVU rows of 99214 (work, non-facility PE, facility PE, MP, totals, conversion factor)
# in PPRRVU23_JAN.csv and PPRRVU25_JAN1.csv, as published.
PFS_99214 = {
    "2023-JAN": ("1.92", "1.73", "0.82", "0.14", "3.79", "2.88", "33.8872"),
    "2025-JAN": ("1.92", "1.80", "0.83", "0.15", "3.87", "2.90", "32.3465"),
}


def make_pfs_change_99214(run):
    """99214's RVU and payment change from the 2023 to the 2025 fee schedule, as the PFS
    importer records it."""
    from codes.changes import RVU_FIELDS, changes_record, rvu_change

    before, after = (
        dict(zip(RVU_FIELDS, map(Decimal, PFS_99214[release]), strict=True))
        for release in ("2023-JAN", "2025-JAN")
    )
    change = rvu_change(
        code="99214",
        modifier="",
        before=before,
        after=after,
        edition_before="PFS 2023-JAN release",
        edition_after="PFS 2025-JAN release",
        effective_before=datetime.date(2023, 1, 1),
        effective_after=datetime.date(2025, 1, 1),
    )
    changes_record(run=run, changes=[change])
    return change


def make_ncci_change(
    run,
    code: str,
    other: str,
    *,
    column: int = 1,
    kind: str = "ncci-added",
    before: str | None = None,
    after: str | None = "0",
):
    from codes.models import CodeChange

    return CodeChange.objects.create(
        run=run,
        system="hcpcs" if code[0].isalpha() else "cpt",
        code=code,
        kind=kind,
        other_code=other,
        column=column,
        before={"modifier_indicator": before} if before else None,
        after={"modifier_indicator": after} if after else None,
        edition_before="NCCI PTP v30.0, effective 2024-01-01",
        edition_after="NCCI PTP v30.1, effective 2024-04-01",
        effective_before=datetime.date(2024, 1, 1),
        effective_after=datetime.date(2024, 4, 1),
    )
