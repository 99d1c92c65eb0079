from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from mailer.models import Message

from careers.models import Job
from tests.factories import make_job, make_user

pytestmark = pytest.mark.django_db


def listed(client) -> list[str]:
    return [job.title for job in client.get("/careers/").context["jobs"]]


def test_a_verified_account_posts_a_job_that_waits_for_review(client, poster, valid_post):
    client.force_login(poster)
    response = client.post("/careers/post/", valid_post)
    assert response.status_code == 302 and response["Location"] == "/careers/mine/"
    job = Job.objects.get()
    assert job.status == Job.Status.PENDING and job.posted_by == poster
    assert job.valid_through == timezone.localdate() + datetime.timedelta(days=30)
    assert job.onsite_days == 2 and job.credentials_required == ["COC", "CCS"]
    assert job.description_html.startswith("<h4>Duties</h4>")  # "## Duties", two levels down
    assert listed(client) == []


def test_a_job_can_be_saved_as_a_draft(client, poster, valid_post):
    client.force_login(poster)
    valid_post.pop("submit")
    client.post("/careers/post/", {**valid_post, "draft": "1"})
    assert Job.objects.get().status == Job.Status.DRAFT


def test_an_unverified_account_is_asked_to_verify_before_posting(client, valid_post):
    user = make_user(verified=False)
    client.force_login(user)
    response = client.post("/careers/post/", valid_post)
    assert response.status_code == 403
    assert "Verify your email address to post a job" in response.content.decode()
    assert not Job.objects.exists()


def test_a_guest_is_sent_to_log_in_to_post(client):
    response = client.get("/careers/post/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"pay_min": "40", "pay_max": "30"}, "pay_min", "cannot be above the highest pay"),
        ({"credentials_required": ["CPC", "WIZARD"]}, "credentials_required", "not one of"),
        ({"apply_url": "not a url"}, "apply_url", "Enter a valid URL"),
        ({"apply_url": "javascript:alert(1)"}, "apply_url", "Enter a valid URL"),
        ({"apply_url": "", "apply_email": "nobody@"}, "apply_email", "valid email"),
        ({"apply_url": "", "apply_email": ""}, "apply_url", "Give a URL or an email"),
        ({"valid_through": "2020-01-01"}, "valid_through", "cannot be in the past"),
        ({"valid_through": "2999-01-01"}, "valid_through", "90 days at most"),
        ({"description": "x" * 20_000}, "description", "at most 10000 characters"),
        ({"title": "Coder\x00"}, "title", "Null characters are not allowed"),
        ({"description": "Duties\x00"}, "description", "Null characters are not allowed"),
        ({"arrangement": "hybrid", "onsite_days": ""}, "onsite_days", "1 to 4 days"),
        ({"pay_min": "-5"}, "pay_min", "above 0"),
        ({"pay_max": "99999999999"}, "pay_max", ""),
        ({"experience_years": "400"}, "experience_years", "40 or fewer"),
        ({"state": "ZZ"}, "state", "not one of"),
    ],
)
def test_bad_input_is_a_form_error_never_a_500(client, poster, valid_post, changes, field, message):
    client.force_login(poster)
    response = client.post("/careers/post/", {**valid_post, **changes})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Job.objects.exists()


def test_script_inside_the_markdown_is_sanitized_away(client, poster, valid_post, staff):
    client.force_login(poster)
    description = "Duties\n\n<script>alert('x')</script><p onmouseover=\"x()\">Hover</p>"
    client.post("/careers/post/", {**valid_post, "description": description})
    job = Job.objects.get()
    client.force_login(staff)
    html = client.get(job.get_absolute_url()).content.decode()
    assert "alert('x')" not in html and "onmouseover" not in html
    assert "<p>Hover</p>" in job.description_html


def test_staff_see_pending_jobs_in_the_review_queue(client, staff, poster):
    make_job(title="Waiting coder", status=Job.Status.PENDING, posted_at=None, posted_by=poster)
    make_job(title="Listed coder")
    client.force_login(staff)
    html = client.get("/careers/review/").content.decode()
    assert "Waiting coder" in html and "hiring@testwood.example" in html
    assert "Listed coder" not in html


def test_only_staff_may_review(client, coder):
    job = make_job(status=Job.Status.PENDING, posted_at=None)
    client.force_login(coder)
    assert client.get("/careers/review/").status_code == 403
    assert client.post(f"/careers/{job.pk}/review/", {"action": "approve"}).status_code == 403
    assert Job.objects.get().status == Job.Status.PENDING


def test_approving_publishes_the_job_and_mails_the_poster(client, staff, poster, send_queued):
    job = make_job(status=Job.Status.PENDING, posted_at=None, posted_by=poster)
    client.force_login(staff)
    response = client.post(f"/careers/{job.pk}/review/", {"action": "approve"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.PUBLISHED and job.posted_at and job.reviewed_by == staff
    assert listed(client) == [job.title]
    sent = send_queued()
    assert [m.to for m in sent] == [[poster.email]]
    assert "is live" in sent[0].subject and job.get_absolute_url() in sent[0].body


def test_rejecting_needs_a_reason_which_is_emailed_to_the_poster(
    client, staff, poster, send_queued
):
    job = make_job(status=Job.Status.PENDING, posted_at=None, posted_by=poster)
    client.force_login(staff)
    response = client.post(f"/careers/{job.pk}/review/", {"action": "reject", "reason": ""})
    assert response.status_code == 400
    assert Job.objects.get().status == Job.Status.PENDING
    reason = "Please give a pay range; we list only jobs that show pay."
    client.post(f"/careers/{job.pk}/review/", {"action": "reject", "reason": reason})
    job.refresh_from_db()
    assert job.status == Job.Status.REJECTED and job.rejection_reason == reason
    # Queued, not yet sent: the queue's worker sends it.
    assert Message.objects.count() == 1
    sent = send_queued()
    assert len(sent) == 1 and sent[0].to == [poster.email]
    assert "was not approved" in sent[0].subject and reason in sent[0].body
    assert not Message.objects.exists()


def test_staff_can_expire_a_listed_job(client, staff):
    job = make_job()
    client.force_login(staff)
    client.post(f"/careers/{job.pk}/review/", {"action": "expire"})
    assert Job.objects.get().status == Job.Status.EXPIRED
    assert listed(client) == []


def test_an_unknown_review_action_is_a_400(client, staff):
    job = make_job()
    client.force_login(staff)
    assert client.post(f"/careers/{job.pk}/review/", {"action": "delete"}).status_code == 400


def test_staff_edit_a_job_without_changing_its_status(client, staff, valid_post):
    job = make_job()
    client.force_login(staff)
    response = client.post(f"/careers/{job.pk}/edit/", {**valid_post, "title": "Edited title"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.title == "Edited title" and job.status == Job.Status.PUBLISHED


def test_the_poster_editing_a_published_job_sends_it_back_to_review(client, poster, valid_post):
    job = make_job(posted_by=poster)
    client.force_login(poster)
    client.post(f"/careers/{job.pk}/edit/", {**valid_post, "title": "New title"})
    job.refresh_from_db()
    assert job.title == "New title" and job.status == Job.Status.PENDING
    assert listed(client) == []


def test_an_employer_sees_and_edits_only_their_own_jobs(client, poster, coder, valid_post):
    mine = make_job(title="Mine", posted_by=poster)
    theirs = make_job(title="Theirs", posted_by=coder)
    client.force_login(poster)
    html = client.get("/careers/mine/").content.decode()
    assert "Mine" in html and "Theirs" not in html
    assert client.get(f"/careers/{mine.pk}/edit/").status_code == 200
    assert client.get(f"/careers/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/careers/{theirs.pk}/edit/", valid_post).status_code == 404


def test_a_listed_job_is_renewed_for_another_thirty_days_at_most_ninety_out(client, poster):
    today = timezone.localdate()
    job = make_job(posted_by=poster, valid_through=today + datetime.timedelta(days=5))
    client.force_login(poster)
    client.post(f"/careers/{job.pk}/renew/")
    job.refresh_from_db()
    assert job.valid_through == today + datetime.timedelta(days=35)
    job.valid_through = today + datetime.timedelta(days=80)
    job.save()
    client.post(f"/careers/{job.pk}/renew/")
    job.refresh_from_db()
    assert job.valid_through == today + datetime.timedelta(days=90)


def test_an_expired_job_cannot_be_renewed(client, poster):
    job = make_job(posted_by=poster, valid_through=timezone.localdate() - datetime.timedelta(1))
    client.force_login(poster)
    response = client.post(f"/careers/{job.pk}/renew/", follow=True)
    assert "Only a job that is still listed can be renewed." in response.content.decode()
    job.refresh_from_db()
    assert job.valid_through < timezone.localdate()
