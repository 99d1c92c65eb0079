from __future__ import annotations

import datetime
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from careers.alerts import alerts_send_due, unsubscribe_token
from careers.models import Job, JobAlert, SavedJob
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def test_an_account_saves_a_job_and_finds_it_among_its_saved_jobs(client, coder):
    job = make_job()
    client.force_login(coder)
    response = client.post(f"/careers/{job.pk}/save/")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    client.post(f"/careers/{job.pk}/save/")  # saving twice keeps one
    assert SavedJob.objects.filter(user=coder, job=job).count() == 1
    assert "Saved ✓" in client.get(job.get_absolute_url()).content.decode()
    assert job.title in client.get("/careers/saved/").content.decode()
    client.post(f"/careers/{job.pk}/save/", {"action": "remove"})
    assert not SavedJob.objects.exists()


def test_a_guest_must_log_in_to_save(client):
    job = make_job()
    response = client.post(f"/careers/{job.pk}/save/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not SavedJob.objects.exists()


def test_a_job_no_longer_listed_cannot_be_saved(client, coder):
    job = make_job(status=Job.Status.EXPIRED)
    client.force_login(coder)
    assert client.post(f"/careers/{job.pk}/save/").status_code == 404


def test_saving_never_redirects_off_the_site(client, coder):
    job = make_job()
    client.force_login(coder)
    response = client.post(f"/careers/{job.pk}/save/", {"next": "https://evil.example/"})
    assert response["Location"] == job.get_absolute_url()


def test_an_alert_is_saved_from_the_list_filters(client, coder):
    client.force_login(coder)
    client.post("/careers/alerts/", {"query": "credential=CPC&arrangement=remote&bogus=1"})
    client.post("/careers/alerts/", {"query": "arrangement=remote&credential=CPC"})  # the same
    alert = JobAlert.objects.get()
    assert alert.user == coder and alert.query == "credential=CPC&arrangement=remote"
    assert alert.description == "CPC · Remote"
    assert "CPC · Remote" in client.get("/careers/alerts/").content.decode()


def alert_for(user, query: str = "credential=CPC", *, days_ago: int = 2) -> JobAlert:
    created = timezone.now() - datetime.timedelta(days=days_ago)
    return JobAlert.objects.create(
        user=user, query=query, description="CPC", created_at=created, checked_through=created
    )


def test_the_daily_digest_lists_new_matching_jobs_once(coder, send_queued):
    alert = alert_for(coder)
    make_job(title="Fresh CPC job")
    make_job(title="Fresh CCS job", credentials_required=["CCS"])
    make_job(title="Old CPC job", posted_at=timezone.now() - datetime.timedelta(days=5))
    call_command("send_job_alerts", verbosity=0)
    sent = send_queued()
    assert len(sent) == 1 and sent[0].to == [coder.email]
    body = sent[0].body
    assert "Fresh CPC job" in body
    assert "Fresh CCS job" not in body and "Old CPC job" not in body
    assert "1 new job: CPC" in sent[0].subject
    link = re.search(r"http\S+/careers/alerts/unsubscribe/\S+/", body)[0]
    assert sent[0].extra_headers["List-Unsubscribe"] == f"<{link}>"
    alert.refresh_from_db()
    assert alert.last_sent_at is not None


def test_an_alert_is_mailed_at_most_once_a_day(coder, send_queued):
    alert_for(coder)
    make_job(title="First")
    now = timezone.now()
    assert alerts_send_due(now=now).sent == 1
    make_job(title="Second", posted_at=now + datetime.timedelta(minutes=1))
    assert alerts_send_due(now=now + datetime.timedelta(minutes=5)).sent == 0
    assert len(send_queued()) == 1
    tomorrow = now + datetime.timedelta(days=1)
    assert alerts_send_due(now=tomorrow).sent == 1
    sent = send_queued()
    assert len(sent) == 2 and "Second" in sent[1].body and "First" not in sent[1].body


def test_no_new_match_sends_nothing(coder, send_queued):
    alert_for(coder)
    make_job(credentials_required=["CCS"])
    assert alerts_send_due().sent == 0
    assert send_queued() == []


def test_the_daily_run_marks_jobs_past_their_date_expired(db):
    job = make_job(valid_through=timezone.localdate() - datetime.timedelta(days=1))
    assert alerts_send_due().expired_jobs == 1
    job.refresh_from_db()
    assert job.status == Job.Status.EXPIRED


def test_a_signed_link_unsubscribes_without_logging_in(client, coder):
    alert = alert_for(coder)
    url = f"/careers/alerts/unsubscribe/{unsubscribe_token(alert)}/"
    page = client.get(url)
    assert page.status_code == 200 and "Stop this job alert?" in page.content.decode()
    alert.refresh_from_db()
    assert alert.is_active  # a GET (a mail scanner following links) changes nothing
    response = client.post(url)
    assert "You are unsubscribed" in response.content.decode()
    alert.refresh_from_db()
    assert not alert.is_active
    assert alerts_send_due().considered == 0


def test_a_tampered_unsubscribe_link_is_refused(client, coder):
    alert = alert_for(coder)
    token = unsubscribe_token(alert)
    response = client.post(f"/careers/alerts/unsubscribe/{token[:-2]}xx/")
    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.is_active


def test_an_account_turns_off_only_its_own_alerts(client, coder, poster):
    theirs = alert_for(poster)
    client.force_login(coder)
    assert (
        client.post("/careers/alerts/", {"action": "remove", "alert": theirs.pk}).status_code == 404
    )
    assert client.post("/careers/alerts/", {"action": "remove", "alert": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
