"""Google-for-Jobs structured data: a schema.org JobPosting for a listed job.

It is written into the page by casepilot.structured.json_ld, which escapes it so that no text
a poster wrote can close the element.
"""

from __future__ import annotations

from django.conf import settings

from careers.choices import Arrangement, EmploymentType, PayPeriod
from careers.models import Job

EMPLOYMENT_TYPES = {
    EmploymentType.FULL_TIME: "FULL_TIME",
    EmploymentType.PART_TIME: "PART_TIME",
    EmploymentType.CONTRACT: "CONTRACTOR",
    EmploymentType.PER_DIEM: "PER_DIEM",
}


def job_posting(job: Job) -> dict[str, object]:
    url = f"{settings.SITE_URL}{job.get_absolute_url()}"
    organization: dict[str, object] = {"@type": "Organization", "name": job.employer_name}
    if job.employer_website:
        organization["sameAs"] = job.employer_website
    data: dict[str, object] = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": job.title,
        "description": job.description_html,
        "datePosted": job.posted_at.date().isoformat() if job.posted_at else None,
        "validThrough": f"{job.valid_through.isoformat()}T23:59:59Z",
        "hiringOrganization": organization,
        "employmentType": EMPLOYMENT_TYPES[job.employment_type],
        "identifier": {
            "@type": "PropertyValue",
            "name": "CasePilot CareerCenter",
            "value": str(job.pk),
        },
        "url": url,
        "baseSalary": {
            "@type": "MonetaryAmount",
            "currency": "USD",
            "value": {
                "@type": "QuantitativeValue",
                "minValue": float(job.pay_min),
                "maxValue": float(job.pay_max),
                "unitText": "HOUR" if job.pay_period == PayPeriod.HOUR else "YEAR",
            },
        },
        "experienceRequirements": {
            "@type": "OccupationalExperienceRequirements",
            "monthsOfExperience": job.experience_years * 12,
        },
    }
    credentials = [*job.credentials_required, *job.credentials_preferred]
    if credentials:
        data["educationRequirements"] = [
            {
                "@type": "EducationalOccupationalCredential",
                "credentialCategory": "professional certificate",
                "name": credential,
            }
            for credential in dict.fromkeys(credentials)
        ]
    place = {
        "@type": "Place",
        "address": {
            "@type": "PostalAddress",
            "addressLocality": job.city,
            "addressRegion": job.state,
            "addressCountry": "US",
        },
    }
    if job.arrangement == Arrangement.REMOTE:
        data["jobLocationType"] = "TELECOMMUTE"
        states = job.remote_states
        data["applicantLocationRequirements"] = (
            [{"@type": "State", "name": label} for label in job.remote_state_labels]
            if states
            else {"@type": "Country", "name": "USA"}
        )
    else:
        data["jobLocation"] = place
    return data
