"""The project's mail queue: mail is written to the queue and leaves through the real backend."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command
from mailer.models import Message

from casepilot.mail import mail_send
from tests.test_project import production_env, run_manage


@pytest.mark.django_db
def test_mail_waits_in_the_queue_until_the_worker_sends_it(settings):
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail_send(
        to="coder@example.com",
        template="careers/email/rejected",
        context={"job": {"title": "Coder", "employer_name": "Clinic", "pk": 1}, "reason": "No pay"},
    )
    assert mail.outbox == []
    assert Message.objects.count() == 1
    call_command("send_mail", verbosity=0)
    assert [m.to for m in mail.outbox] == [["coder@example.com"]]
    assert "No pay" in mail.outbox[0].body
    assert not Message.objects.exists()


def test_production_queues_mail_and_sends_it_by_smtp():
    show = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.MAILER_EMAIL_BACKEND)"
    result = run_manage(
        "shell", "--no-imports", "-c", show, env=production_env(EMAIL_HOST="smtp.example.com")
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "mailer.backend.DbBackend",
        "django.core.mail.backends.smtp.EmailBackend",
    ]
