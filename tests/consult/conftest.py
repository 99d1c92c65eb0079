from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command

from tests.factories import make_consultant, make_user


@pytest.fixture
def mail_queue(settings):
    """Mail goes through the real queue (django-mailer); `flush()` runs the worker once and
    returns what left, as the locmem outbox holds it."""
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def flush() -> list:
        call_command("send_mail", verbosity=0)
        return mail.outbox

    return flush


@pytest.fixture
def asker(db):
    return make_user("asker@example.com")


@pytest.fixture
def consultant(db):
    return make_consultant("coder@example.com", name="Dana")


@pytest.fixture
def asker_client(client, asker):
    client.force_login(asker)
    return client
