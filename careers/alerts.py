"""Job alerts: a saved filter of the list page, emailed as a daily digest of new matches.

Each alert is considered at most once a UTC day: the run claims it under a row lock and
stamps the day in the same transaction as it queues the mail, so two runs at once, or a run
repeated the same day, never send a second digest. Unsubscribing takes a signed link.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from careers.listing import JobFilters, jobs_matching
from careers.models import Job, JobAlert
from casepilot.mail import mail_send

UNSUBSCRIBE_SALT = "careers.alert.unsubscribe"
DIGEST_MAX_JOBS = 25
MAX_ALERTS_PER_USER = 20


class AlertError(Exception):
    pass


def alert_filters(alert: JobAlert) -> JobFilters:
    return JobFilters.from_query(dict(parse_qsl(alert.query)))


def alert_create(*, user: User, filters: JobFilters) -> JobAlert:
    query = filters.query_string(sort=None, page=None)
    existing = JobAlert.objects.filter(user=user, query=query, is_active=True).first()
    if existing:
        return existing
    if JobAlert.objects.filter(user=user, is_active=True).count() >= MAX_ALERTS_PER_USER:
        raise AlertError(f"You can keep up to {MAX_ALERTS_PER_USER} alerts; remove one first.")
    return JobAlert.objects.create(user=user, query=query, description=filters.describe())


def unsubscribe_token(alert: JobAlert) -> str:
    return signing.dumps(alert.pk, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(alert: JobAlert) -> str:
    path = reverse("careers:alert_unsubscribe", kwargs={"token": unsubscribe_token(alert)})
    return f"{settings.SITE_URL}{path}"


def alert_from_token(token: str) -> JobAlert | None:
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return JobAlert.objects.filter(pk=pk).first() if isinstance(pk, int) else None


def alert_unsubscribe(*, alert: JobAlert) -> None:
    JobAlert.objects.filter(pk=alert.pk).update(is_active=False)


@dataclass
class AlertRun:
    considered: int = 0
    sent: int = 0
    expired_jobs: int = 0


def alerts_send_due(*, now: datetime.datetime | None = None) -> AlertRun:
    """Queue today's digest for every active alert not yet considered today."""
    now = now or timezone.now()
    today = now.date()
    run = AlertRun(expired_jobs=Job.objects.expire_due(today=today))
    due = JobAlert.objects.filter(is_active=True, user__is_active=True).filter(
        Q(last_run_on__isnull=True) | Q(last_run_on__lt=today)
    )
    for pk in due.values_list("pk", flat=True).iterator():
        if _alert_run(pk=pk, now=now):
            run.sent += 1
        run.considered += 1
    return run


@transaction.atomic
def _alert_run(*, pk: int, now: datetime.datetime) -> bool:
    today = now.date()
    alert = (
        JobAlert.objects.select_for_update(skip_locked=True)
        .select_related("user")
        .filter(pk=pk, is_active=True)
        .filter(Q(last_run_on__isnull=True) | Q(last_run_on__lt=today))
        .first()
    )
    if alert is None:  # another run has it, or has done it today
        return False
    filters = alert_filters(alert)
    filters.sort = "newest"
    new = Job.objects.live(today=today).filter(
        posted_at__gt=alert.checked_through, posted_at__lte=now
    )
    jobs = list(jobs_matching(filters, base=new)[: DIGEST_MAX_JOBS + 1])
    alert.checked_through = now
    alert.last_run_on = today
    if jobs:
        alert.last_sent_at = now
        link = unsubscribe_url(alert)
        mail_send(
            to=alert.user.email,
            template="careers/email/alert_digest",
            context={
                "alert": alert,
                "jobs": jobs[:DIGEST_MAX_JOBS],
                "more": len(jobs) > DIGEST_MAX_JOBS,
                "unsubscribe_url": link,
            },
            headers={
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    alert.save(update_fields=["checked_through", "last_run_on", "last_sent_at"])
    return bool(jobs)
