"""Bounded growth: refused cookie-less requests leave nothing behind, and `prune_usage` drops
what past periods and expired sessions left."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from accounts import quota
from accounts.models import GuestAddressUse, Meter, Unlock
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_a_refused_cookieless_guest_leaves_no_session_and_no_meter(client, settings, many_codes):
    settings.QUOTA_GUEST_UNLOCKS_PER_ADDRESS = 1
    client.get(many_codes[0].get_absolute_url())
    assert (Session.objects.count(), Meter.objects.count()) == (1, 1)
    for code in many_codes[1:6]:
        client.cookies.clear()
        response = client.get(code.get_absolute_url())
        assert response.status_code == 200
        assert "sessionid" not in response.cookies
    assert (Session.objects.count(), Meter.objects.count(), Unlock.objects.count()) == (1, 1, 1)
    assert GuestAddressUse.objects.get().unlocks == 1


def test_prune_usage_keeps_the_current_period_and_drops_the_past(settings, many_codes):
    user = make_user()
    viewer = quota.viewer_for(user=user, session={}, meta={"REMOTE_ADDR": "10.1.1.1"})
    guest = quota.Viewer(
        kind="guest", subject="g:old", allowance=1, user_id=None, address="10.1.1.2"
    )
    now = timezone.now()
    last_period = now - datetime.timedelta(days=40)
    quota.admit(viewer=viewer, code_id=many_codes[0].pk, consume=True, now=last_period)
    quota.admit(viewer=guest, code_id=many_codes[1].pk, consume=True, now=last_period)
    quota.admit(viewer=viewer, code_id=many_codes[2].pk, consume=True, now=now)
    Session.objects.create(session_key="e" * 32, session_data="", expire_date=now)
    Session.objects.create(
        session_key="l" * 32, session_data="", expire_date=now + datetime.timedelta(days=1)
    )

    out = StringIO()
    call_command("prune_usage", stdout=out)

    assert "Pruned 2 meters, 2 unlocks, 1 guest addresses, 1 sessions." in out.getvalue()
    assert list(Meter.objects.values_list("subject", "used")) == [(f"u:{user.pk}", 1)]
    assert list(Unlock.objects.values_list("code_id", flat=True)) == [many_codes[2].pk]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["l" * 32]
    # The current period's count still decides: the account has 5 of 6 left, and the page
    # unlocked this period re-opens for free.
    assert quota.usage_for(viewer=viewer).remaining == 5
    again = quota.admit(viewer=viewer, code_id=many_codes[2].pk, consume=True)
    assert again.reason == "reviewed"
