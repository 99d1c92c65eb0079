"""The rules of a job's life: submit, review (approve, reject, expire), edit, renew.

Views and admin call these; each is one transaction, and the mail it sends is queued in it.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from careers.models import DEFAULT_DAYS_OPEN, MAX_DAYS_OPEN, Job
from casepilot.mail import mail_send


class PostingError(Exception):
    """An action that does not apply to the job as it stands (e.g. renewing an expired job)."""


def user_may_post(user: User) -> bool:
    """Any account with a verified email address may post; staff always may."""
    return user.is_authenticated and (user.email_verified or user.is_staff)


def user_may_edit(user: User, job: Job) -> bool:
    return user.is_authenticated and (user.is_staff or job.posted_by_id == user.pk)


def valid_through_default(*, today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) + datetime.timedelta(days=DEFAULT_DAYS_OPEN)


def valid_through_latest(*, today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) + datetime.timedelta(days=MAX_DAYS_OPEN)


@transaction.atomic
def job_save_by_poster(*, job: Job, user: User, submit: bool) -> Job:
    """Save a job from the posting form; `submit` sends it to review, otherwise a draft.

    A poster's edit of a published job sends it back to review: what staff approved is no
    longer what would be listed. Staff editing a job leave its status as it is.
    """
    if job.pk is None:
        job.posted_by = user
    if not (user.is_staff and job.pk is not None):
        if submit or job.status in (Job.Status.PUBLISHED, Job.Status.PENDING):
            job.status = Job.Status.PENDING
        else:
            job.status = Job.Status.DRAFT
        job.rejection_reason = ""
    job.save()
    return job


@transaction.atomic
def job_approve(*, job: Job, reviewer: User) -> Job:
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status != Job.Status.PENDING:
        raise PostingError("Only a job waiting for review can be approved.")
    today = timezone.localdate()
    if job.valid_through < today:
        raise PostingError("Its valid-through date has passed; the poster must renew it first.")
    now = timezone.now()
    job.status = Job.Status.PUBLISHED
    job.posted_at = job.posted_at or now
    job.reviewed_by, job.reviewed_at = reviewer, now
    job.rejection_reason = ""
    job.save()
    if job.posted_by:
        mail_send(to=job.posted_by.email, template="careers/email/approved", context={"job": job})
    return job


@transaction.atomic
def job_reject(*, job: Job, reviewer: User, reason: str) -> Job:
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status not in (Job.Status.PENDING, Job.Status.PUBLISHED):
        raise PostingError("Only a pending or published job can be rejected.")
    job.status = Job.Status.REJECTED
    job.rejection_reason = reason
    job.reviewed_by, job.reviewed_at = reviewer, timezone.now()
    job.save()
    if job.posted_by:
        mail_send(
            to=job.posted_by.email,
            template="careers/email/rejected",
            context={"job": job, "reason": reason},
        )
    return job


@transaction.atomic
def job_expire(*, job: Job, reviewer: User | None = None) -> Job:
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status not in (Job.Status.PENDING, Job.Status.PUBLISHED):
        raise PostingError("Only a pending or published job can be expired.")
    job.status = Job.Status.EXPIRED
    if reviewer is not None:
        job.reviewed_by, job.reviewed_at = reviewer, timezone.now()
    job.save()
    return job


@transaction.atomic
def job_renew(*, job: Job, today: datetime.date | None = None) -> Job:
    """Another 30 days from today (or from its current end, if later), never past 90 days out."""
    today = today or timezone.localdate()
    job = Job.objects.select_for_update().get(pk=job.pk)
    if not (job.status == Job.Status.PUBLISHED and job.valid_through >= today):
        raise PostingError("Only a job that is still listed can be renewed.")
    extended = max(job.valid_through, today) + datetime.timedelta(days=DEFAULT_DAYS_OPEN)
    job.valid_through = min(extended, valid_through_latest(today=today))
    job.save()
    return job
