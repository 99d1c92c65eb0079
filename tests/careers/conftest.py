from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from tests.factories import make_user


@pytest.fixture(autouse=True)
def mail_queue(settings):
    """Mail goes into django-mailer's queue as in production; `send_queued()` delivers it.

    The test runner swaps EMAIL_BACKEND for locmem, which would skip the queue: put the queue
    back in front, delivering to locmem's outbox.
    """
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def send_queued():
    """Run the queue's own send command and return what reached the outbox."""

    def send() -> list[mail.EmailMessage]:
        call_command("send_mail", verbosity=0)
        return list(mail.outbox)

    return send


@pytest.fixture
def poster(db) -> User:
    return make_user("hiring@testwood.example")


@pytest.fixture
def staff(db) -> User:
    return make_user("reviewer@casepilot.example", is_staff=True)


@pytest.fixture
def coder(db) -> User:
    return make_user("coder@example.com")


@pytest.fixture
def valid_post() -> dict[str, str]:
    """A complete posting form, as a browser would send it."""
    return {
        "title": "Outpatient Facility Coder",
        "employer_name": "Maple Grove Hospital",
        "employer_website": "https://maplegrove.example",
        "employer_description": "A community hospital.",
        "city": "Raleigh",
        "state": "NC",
        "arrangement": "hybrid",
        "onsite_days": "2",
        "employment_type": "full-time",
        "setting": "outpatient",
        "specialties": ["emergency"],
        "credentials_required": ["COC", "CCS"],
        "credentials_preferred": ["COC"],
        "experience_years": "2",
        "pay_min": "25",
        "pay_max": "31",
        "pay_period": "hour",
        "description": "## Duties\n\nCode emergency department facility charges.",
        "apply_url": "https://maplegrove.example/jobs/1",
        "apply_email": "",
        "valid_through": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        "submit": "1",
    }
