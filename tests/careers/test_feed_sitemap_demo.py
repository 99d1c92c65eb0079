from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.core.management import call_command

from careers.models import Job
from tests.factories import make_job

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_atom_feed_lists_new_listed_jobs(client):
    make_job(title="Listed coder")
    make_job(title="Expired coder", status=Job.Status.EXPIRED)
    response = client.get("/careers/feed/")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    titles = [entry.find(f"{ATOM}title").text for entry in feed.iter(f"{ATOM}entry")]
    assert titles == ["Listed coder — Testwood Clinic (Remote)"]


def test_the_sitemap_lists_published_open_jobs_only(client):
    listed = make_job(title="Listed coder")
    expired = make_job(title="Expired coder", status=Job.Status.EXPIRED)
    example = make_job(title="Example coder", is_example=True)
    index = client.get("/sitemap.xml").content.decode()
    assert f"{settings.SITE_URL}/sitemap-careers.xml" in index
    xml = client.get("/sitemap-careers.xml").content.decode()
    assert f"{settings.SITE_URL}{listed.get_absolute_url()}" in xml
    assert expired.get_absolute_url() not in xml and example.get_absolute_url() not in xml


def test_the_demo_loads_twelve_example_jobs_once(client):
    call_command("load_demo", verbosity=0)
    call_command("load_demo", verbosity=0)
    jobs = Job.objects.all()
    assert jobs.count() == 12
    assert all(job.is_example and job.is_live for job in jobs)
    assert all(".example" in (job.apply_url or job.apply_email) for job in jobs)
    assert len(client.get("/careers/").context["jobs"]) == 12
