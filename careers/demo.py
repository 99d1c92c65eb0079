"""The example jobs of the demo (fixtures/careers.json): fictional employers, marked as examples.

Loading is idempotent: a job is found again by its employer and title. Each load moves the
examples' dates so the demo board always shows open jobs, posted a few days ago.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careers.models import DEFAULT_DAYS_OPEN, Job

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "careers.json"


@transaction.atomic
def load_demo_jobs(path: Path = FIXTURE) -> str:
    entries = json.loads(path.read_text())["jobs"]
    now = timezone.now()
    created = 0
    for entry in entries:
        fields = dict(entry)
        days_ago = fields.pop("posted_days_ago")
        posted_at = now - datetime.timedelta(days=days_ago)
        fields.update(
            pay_min=Decimal(fields["pay_min"]),
            pay_max=Decimal(fields["pay_max"]),
            status=Job.Status.PUBLISHED,
            is_example=True,
            posted_at=posted_at,
            valid_through=posted_at.date() + datetime.timedelta(days=DEFAULT_DAYS_OPEN),
        )
        job = Job.objects.filter(
            is_example=True, employer_name=fields["employer_name"], title=fields["title"]
        ).first()
        if job is None:
            job = Job(created_at=posted_at)
            created += 1
        for name, value in fields.items():
            setattr(job, name, value)
        job.save()
    if not created:
        return f"Example jobs already loaded: {len(entries)} kept open."
    return f"Added {created} example jobs."
