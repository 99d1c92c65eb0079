"""The weekly digest of the change feed (`manage.py send_change_digest`): at most one email a
week per account, through the mail queue, kinds of change only, with an unsubscribe link
that works without logging in."""

from __future__ import annotations

import datetime
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import timezone
from mailer.models import Message

from accounts import digest
from accounts.models import ChangeDigest, MyCode
from tests.factories import (
    make_code,
    make_import_run,
    make_ncci_change,
    make_pfs_change_99214,
    make_system,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber():
    """An account that keeps 99214 and 64493, and an import that changed both since it
    joined."""
    user = make_user()
    cpt = make_system("cpt")
    for number in ("99214", "64493"):
        MyCode.objects.create(user=user, code=make_code(number, system=cpt), starred=True)
    run = make_import_run("cms-pfs-rvu", "PPRRVU25_JAN1.csv")
    make_pfs_change_99214(run)
    make_ncci_change(run, "64493", "01991")
    make_ncci_change(run, "64493", "01992")
    return user


def send() -> str:
    out = StringIO()
    call_command("send_change_digest", stdout=out)
    return out.getvalue()


def test_the_digest_lists_each_code_with_its_kinds_of_change(subscriber, mail_queue):
    output = send()

    (mail,) = mail_queue()
    assert "digests queued: 1" in output
    assert mail.to == [subscriber.email]
    assert mail.subject == "[CasePilot] New editions changed 2 of your codes"
    assert "CPT 64493: 2 NCCI edits added" in mail.body
    assert "CPT 99214: RVUs and payment changed" in mail.body
    assert "http://127.0.0.1:8000/account/changes/" in mail.body
    html = mail.alternatives[0][0]
    assert "<strong>CPT 99214</strong>: RVUs and payment changed" in html
    # The values stay behind the metered pages.
    for value in ("125.18", "128.43", "01991", "-2.53"):
        assert value not in mail.body and value not in html
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_account_gets_at_most_one_digest_a_week(subscriber, mail_queue):
    send()
    make_ncci_change(make_import_run(), "64493", "0213T")  # more news the same week

    output = send()

    assert "digests queued: 0" in output
    assert len(mail_queue()) == 1
    assert ChangeDigest.objects.filter(user=subscriber).count() == 1


def test_next_week_brings_only_the_changes_since_the_last_digest(subscriber, mail_queue):
    digest.digests_send_due()
    make_ncci_change(make_import_run(), "64493", "0213T")

    digest.digests_send_due(now=timezone.now() + datetime.timedelta(days=7))

    first, second = mail_queue()
    assert "RVUs and payment changed" in first.body
    assert "CPT 64493: 1 NCCI edit added" in second.body
    assert "99214" not in second.body


def test_a_week_without_news_sends_nothing_and_claims_nothing(mail_queue):
    user = make_user()
    MyCode.objects.create(
        user=user, code=make_code("64493", system=make_system("cpt")), starred=True
    )

    assert "digests queued: 0" in send()
    make_ncci_change(make_import_run(), "64493", "01991")  # an import later that week
    assert "digests queued: 1" in send()

    assert len(mail_queue()) == 1


def test_changes_recorded_before_the_account_joined_are_not_news(mail_queue):
    run = make_import_run(started_at=timezone.now() - datetime.timedelta(days=30))
    make_ncci_change(run, "64493", "01991")
    user = make_user()
    MyCode.objects.create(
        user=user, code=make_code("64493", system=make_system("cpt")), starred=True
    )

    send()

    assert mail_queue() == []


def test_an_unsubscribed_account_gets_no_digest(subscriber, mail_queue):
    subscriber.change_digest = False
    subscriber.save()

    send()

    assert mail_queue() == []


def test_the_unsubscribe_link_asks_then_unsubscribes_without_login(subscriber, client, mail_queue):
    send()
    link = re.search(
        r"http://127\.0\.0\.1:8000(/account/changes/unsubscribe/\S+/)", mail_queue()[0].body
    )

    page = client.get(link.group(1))
    assert "Stop the weekly email?" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.change_digest is True

    done = client.post(link.group(1))

    assert "You are unsubscribed" in done.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.change_digest is False


@pytest.mark.parametrize("token", ["nonsense", "1:abc:def", "x" * 3000])
def test_a_broken_unsubscribe_link_is_a_clear_404(client, token):
    response = client.get(f"/account/changes/unsubscribe/{token}/")

    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_digest(subscriber, settings):
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"

    def run(_: int) -> int:
        try:
            return digest.digests_send_due().sent
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        sent = list(pool.map(run, range(4)))

    assert sum(sent) == 1
    assert Message.objects.count() == 1
    assert ChangeDigest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_digest_waits_for_an_import_in_progress_so_none_of_its_changes_is_passed_over():
    """An import takes its change ids early and commits late: a digest that read the highest
    id meanwhile would skip the import's changes for good. It waits for the import instead."""
    from codes.changes import changes_lock_for_import, changes_settled_through

    earlier = make_ncci_change(make_import_run(), "64493", "01991")
    importing, go = threading.Event(), threading.Event()
    written: list[int] = []

    def an_import() -> None:
        try:
            with transaction.atomic():
                changes_lock_for_import()
                written.append(make_ncci_change(make_import_run(), "64494", "01992").pk)
                importing.set()
                go.wait(10)
        finally:
            connections.close_all()

    def a_digest() -> int:
        try:
            return changes_settled_through()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        importer = pool.submit(an_import)
        assert importing.wait(10)
        reader = pool.submit(a_digest)
        with pytest.raises(FuturesTimeout):
            reader.result(timeout=0.5)  # held back while the import runs
        go.set()
        importer.result(timeout=10)
        through = reader.result(timeout=10)

    assert through == written[0] > earlier.pk
