from __future__ import annotations

import datetime
import json
import re

import pytest
from django.conf import settings
from django.urls import resolve

from careers.models import Job
from tests.factories import make_job

pytestmark = pytest.mark.django_db

JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def structured_data(html: str) -> dict:
    blocks = JSON_LD.findall(html)
    assert len(blocks) == 1, blocks
    return json.loads(blocks[0])


def test_the_job_page_shows_every_field_and_an_apply_button(client):
    job = make_job(
        arrangement="remote",
        remote_states=["OH", "PA"],
        credentials_required=["CPC", "CCS-P"],
        credentials_preferred=["COC"],
        specialties=["orthopedics", "pain-management"],
        employer_description="A clinic of bone doctors.",
    )
    html = client.get(job.get_absolute_url()).content.decode()
    for text in (
        "Remote Professional Fee Coder",
        "Testwood Clinic",
        "A clinic of bone doctors.",
        "https://testwood.example",
        "Columbus, Ohio",
        "Ohio, Pennsylvania",
        "Full-time",
        "Professional fee",
        "Orthopedics, Pain management",
        "Any one of: CPC, CCS-P",
        "COC",
        "2 years",
        "$25.00–$30.00 per hour",
        "<strong>office visits</strong>",
    ):
        assert text in html, text
    assert re.search(r'<a class="button job-apply" href="https://testwood.example/apply"', html)


def test_a_hybrid_job_says_how_many_days_on_site_and_email_applications_get_a_mailto(client):
    job = make_job(
        arrangement="hybrid", onsite_days=3, apply_url="", apply_email="jobs@testwood.example"
    )
    html = client.get(job.get_absolute_url()).content.decode()
    assert "Hybrid, 3 days a week on site" in html
    assert 'href="mailto:jobs@testwood.example"' in html


def test_another_slug_redirects_permanently_to_the_canonical_address(client):
    job = make_job()
    response = client.get(f"/careers/{job.pk}-old-title/")
    assert response.status_code == 301
    assert response["Location"] == job.get_absolute_url()
    assert (
        job.get_absolute_url()
        == f"/careers/{job.pk}-remote-professional-fee-coder-testwood-clinic/"
    )


def test_a_listed_job_carries_a_complete_jobposting(client):
    job = make_job(credentials_required=["CPC"], credentials_preferred=["CPMA"], experience_years=3)
    data = structured_data(client.get(job.get_absolute_url()).content.decode())
    assert data["@context"] == "https://schema.org/" and data["@type"] == "JobPosting"
    # Google's required properties
    for key in ("title", "description", "datePosted", "hiringOrganization"):
        assert data[key], key
    assert data["jobLocationType"] == "TELECOMMUTE"
    assert data["applicantLocationRequirements"] == {"@type": "Country", "name": "USA"}
    # and its recommended ones
    assert data["validThrough"] == f"{job.valid_through.isoformat()}T23:59:59Z"
    assert data["employmentType"] == "FULL_TIME"
    assert data["identifier"]["value"] == str(job.pk)
    assert data["baseSalary"]["currency"] == "USD"
    assert data["baseSalary"]["value"] == {
        "@type": "QuantitativeValue",
        "minValue": 25.0,
        "maxValue": 30.0,
        "unitText": "HOUR",
    }
    assert data["hiringOrganization"] == {
        "@type": "Organization",
        "name": "Testwood Clinic",
        "sameAs": "https://testwood.example",
    }
    assert [c["name"] for c in data["educationRequirements"]] == ["CPC", "CPMA"]
    assert {c["@type"] for c in data["educationRequirements"]} == {
        "EducationalOccupationalCredential"
    }
    assert data["experienceRequirements"]["monthsOfExperience"] == 36
    assert data["url"] == f"{settings.SITE_URL}{job.get_absolute_url()}"
    assert "<strong>office visits</strong>" in data["description"]


def test_an_on_site_job_has_a_job_location_and_remote_states_become_requirements(client):
    onsite = make_job(arrangement="onsite", city="Tacoma", state="WA")
    data = structured_data(client.get(onsite.get_absolute_url()).content.decode())
    assert data["jobLocation"]["address"] == {
        "@type": "PostalAddress",
        "addressLocality": "Tacoma",
        "addressRegion": "WA",
        "addressCountry": "US",
    }
    assert "jobLocationType" not in data
    remote = make_job(remote_states=["FL", "GA"])
    data = structured_data(client.get(remote.get_absolute_url()).content.decode())
    assert data["applicantLocationRequirements"] == [
        {"@type": "State", "name": "Florida"},
        {"@type": "State", "name": "Georgia"},
    ]


def test_text_a_poster_wrote_cannot_close_the_structured_data_block(client):
    job = make_job(
        title="Coder </script><script>alert(1)</script>",
        employer_name="A & B <Billing>",
    )
    html = client.get(job.get_absolute_url()).content.decode()
    block = JSON_LD.search(html)[1]
    assert "</script>" not in block and "<" not in block and "&" not in block
    data = json.loads(block)
    assert data["title"] == "Coder </script><script>alert(1)</script>"
    assert data["hiringOrganization"]["name"] == "A & B <Billing>"
    assert "<script>alert(1)" not in html


def test_job_pages_carry_no_inline_script_or_style(client, staff):
    job = make_job()
    client.force_login(staff)
    for path in (job.get_absolute_url(), "/careers/", "/careers/post/", "/careers/review/"):
        html = client.get(path).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/ld\+json)[^>]*>", html)
        assert " style=" not in html and "<style" not in html, path


@pytest.mark.parametrize(
    ("fields", "notice"),
    [
        ({"status": Job.Status.EXPIRED}, "This job has expired."),
        ({"valid_through": datetime.date(2020, 1, 31)}, "This job has expired."),
        ({"status": Job.Status.REJECTED}, "This job has been removed."),
    ],
)
def test_an_expired_or_removed_job_says_so_and_is_not_indexed(client, fields, notice):
    job = make_job(**fields)
    html = client.get(job.get_absolute_url()).content.decode()
    assert notice in html
    assert '<meta name="robots" content="noindex">' in html
    assert "application/ld+json" not in html
    assert "job-apply" not in html


def test_a_listed_job_is_indexable(client):
    html = client.get(make_job().get_absolute_url()).content.decode()
    assert "noindex" not in html


def test_an_example_job_says_it_is_an_example_and_is_not_indexed(client):
    html = client.get(make_job(is_example=True).get_absolute_url()).content.decode()
    assert "Example listing." in html and "fictional" in html
    assert "noindex" in html and "application/ld+json" not in html


def test_a_job_never_listed_is_visible_only_to_its_poster_and_staff(client, poster, staff, coder):
    job = make_job(status=Job.Status.PENDING, posted_at=None, posted_by=poster)
    assert client.get(job.get_absolute_url()).status_code == 404
    client.force_login(coder)
    assert client.get(job.get_absolute_url()).status_code == 404
    for viewer in (poster, staff):
        client.force_login(viewer)
        response = client.get(job.get_absolute_url())
        assert response.status_code == 200
        assert "Waiting for review." in response.content.decode()


def test_the_job_page_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    job = make_job()
    with django_assert_num_queries(1):
        client.get(job.get_absolute_url())


def test_a_members_job_page_adds_only_the_saved_check(client, coder, django_assert_num_queries):
    job = make_job()
    client.force_login(coder)
    with django_assert_num_queries(4):  # session, user, job, saved?
        client.get(job.get_absolute_url())


def test_job_pages_are_never_metered(client, facet_family):
    # The guest spends the one free code page; job pages stay open after it, as many as asked.
    assert client.get("/cpt/64494/").status_code == 200
    assert "Official Description" not in client.get("/cpt/64493/").content.decode()
    jobs = [make_job(title=f"Coder {n}") for n in range(4)]
    for job in jobs:
        response = client.get(job.get_absolute_url())
        assert response.status_code == 200
        assert "<strong>office visits</strong>" in response.content.decode()
        assert response.wsgi_request.quota is None
        assert "no-store" not in response.get("Cache-Control", "")
    assert client.get("/careers/").wsgi_request.quota is None


def test_no_careers_url_name_is_metered():
    for path in ("/careers/", "/careers/1-a/", "/careers/feed/", "/careers/post/"):
        name = resolve(path).view_name
        assert name.startswith("careers:") and name not in settings.QUOTA_METERED_URL_NAMES


def test_a_missing_job_is_a_404(client):
    assert client.get("/careers/999999-nothing/").status_code == 404
    assert client.get("/careers/99999999999999999999999-x/").status_code == 404
