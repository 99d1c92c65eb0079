from __future__ import annotations

import pytest

from careers.models import Job
from tests.factories import make_job, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("admin@casepilot.example", is_staff=True, is_superuser=True))
    return client


def test_admin_lists_jobs_with_filters_and_search(admin_client):
    make_job(title="Findable auditor", setting="auditing")
    make_job(title="Other coder")
    response = admin_client.get("/admin/careers/job/", {"q": "findable", "setting": "auditing"})
    assert response.status_code == 200
    assert [job.title for job in response.context["cl"].result_list] == ["Findable auditor"]
    for path in ("/admin/careers/savedjob/", "/admin/careers/jobalert/"):
        assert admin_client.get(path).status_code == 200


def test_admin_approves_pending_jobs_in_bulk(admin_client):
    job = make_job(status=Job.Status.PENDING, posted_at=None)
    response = admin_client.post(
        "/admin/careers/job/", {"action": "approve", "_selected_action": [job.pk]}, follow=True
    )
    assert "1 job updated." in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.PUBLISHED and job.posted_at is not None


def test_the_admin_job_form_opens(admin_client):
    job = make_job()
    assert admin_client.get(f"/admin/careers/job/{job.pk}/change/").status_code == 200
