"""Small factories for tests: plain functions with sensible defaults."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Plan, User
from careers.models import Job
from codes.models import Code, CodeGroup, CodeSystem
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
