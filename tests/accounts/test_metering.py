"""The metering rules, through real code page URLs."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from accounts import quota
from accounts.models import GuestAddressUse, Meter, Unlock
from tests.factories import make_plan, make_user

pytestmark = pytest.mark.django_db

LOCKED_MARK = "Official descriptor of"


def page(client, code: str, **extra):
    return client.get(f"/cpt/{code}/", **extra)


def is_unlocked(response) -> bool:
    return LOCKED_MARK in response.content.decode()


def test_guest_gets_one_free_page(client, facet_family):
    first = page(client, "64494")
    assert first.status_code == 200 and is_unlocked(first)
    second = page(client, "64493")
    assert second.status_code == 200
    assert not is_unlocked(second)
    assert "Register free account" in second.content.decode()


def test_banner_counts_the_view_just_spent(client, facet_family):
    html = page(client, "64494").content.decode()
    assert "0 code page views remaining." in html
    client.force_login(make_user())
    assert "4 of 6 code page views remaining" in page(client, "64493").content.decode()


def test_locked_page_has_no_metered_text_and_is_not_stored(client, facet_family):
    page(client, "64494")
    locked = page(client, "64493")
    html = locked.content.decode()
    assert "Official descriptor of 64493" not in html
    assert "Plain words about 64493" not in html
    assert "Inj paravert f jnt 64493" in html  # the code and its short title stay
    assert locked["Cache-Control"] == "private, no-store"


def test_unlocked_page_is_private_no_store(client, facet_family):
    assert page(client, "64494")["Cache-Control"] == "private, no-store"


def test_reopening_an_unlocked_code_is_free(client, facet_family):
    page(client, "64494")
    again = page(client, "64494")
    assert is_unlocked(again)
    assert "did not use a view" in again.content.decode()
    assert Meter.objects.get().used == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_PURPOSE": "prefetch"},
        {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
    ],
)
def test_prefetch_never_spends_a_view(client, facet_family, headers):
    response = page(client, "64494", **headers)
    assert response.status_code == 425  # declined: the browser fetches again on navigation
    assert not is_unlocked(response)
    assert not Meter.objects.exists() and not Unlock.objects.exists()
    assert is_unlocked(page(client, "64494"))


def test_prefetch_of_an_unlocked_code_is_served(client, facet_family):
    page(client, "64494")
    response = page(client, "64494", HTTP_SEC_PURPOSE="prefetch")
    assert response.status_code == 200 and is_unlocked(response)
    assert Meter.objects.get().used == 1


def test_head_request_never_spends_a_view(client, facet_family):
    response = client.head("/cpt/64494/")
    assert response.status_code == 200
    assert not Meter.objects.exists()


def test_redirects_and_404s_are_not_metered(client, facet_family):
    assert client.get("/cpt/64494").status_code == 301
    assert client.get("/CPT/64494/").status_code == 301
    assert client.get("/cpt/99999/").status_code == 404
    assert client.get("/cpt/not-a-code/").status_code == 404
    assert not Meter.objects.exists()
    assert is_unlocked(page(client, "64494"))


def test_browse_and_home_are_not_metered(client, facet_family):
    client.get("/")
    client.get("/cpt/")
    assert not Meter.objects.exists()


def test_free_account_gets_six_in_all(client, many_codes):
    user = make_user()
    client.force_login(user)
    results = [is_unlocked_code(client, c.code) for c in many_codes[:7]]
    assert results == [True] * 6 + [False]
    gated = page(client, many_codes[6].code).content.decode()
    assert "Upgrade for unlimited views" in gated


def is_unlocked_code(client, code: str) -> bool:
    return f"Official descriptor of {code}" in page(client, code).content.decode()


def test_guest_who_signs_up_has_exactly_five_left(client, many_codes):
    assert is_unlocked_code(client, many_codes[0].code)
    user = make_user()
    client.force_login(user)
    response = client.get(reverse("account_profile"))
    assert response.context["usage"].remaining == 5
    # the guest's page stays open for free; five new ones open, the sixth does not
    assert is_unlocked_code(client, many_codes[0].code)
    opened = [is_unlocked_code(client, c.code) for c in many_codes[1:7]]
    assert opened == [True] * 5 + [False]


def test_guest_unlock_carried_into_account_is_listed_on_account_page(client, many_codes):
    page(client, many_codes[0].code)
    client.force_login(make_user())
    html = client.get(reverse("account_profile")).content.decode()
    assert many_codes[0].code in html
    assert "1 used, 5 left of 6" in html


def test_unverified_account_has_only_the_guest_allowance(client, many_codes):
    client.force_login(make_user(verified=False))
    assert is_unlocked_code(client, many_codes[0].code)
    gated = page(client, many_codes[1].code).content.decode()
    assert not is_unlocked_code(client, many_codes[1].code)
    assert "Verify your email" in gated


def test_verifying_email_grants_the_free_views(client, many_codes):
    user = make_user(verified=False)
    client.force_login(user)
    page(client, many_codes[0].code)
    address = user.emailaddress_set.get()
    address.verified = True
    address.save()
    assert is_unlocked_code(client, many_codes[1].code)


def test_paid_unlimited_plan_is_never_gated(client, many_codes):
    client.force_login(make_user(plan=make_plan(views=None)))
    assert all(is_unlocked_code(client, c.code) for c in many_codes)
    assert "Unlimited code page views" in page(client, many_codes[0].code).content.decode()


def test_paid_plan_with_a_number_and_bonus_views(client, many_codes):
    client.force_login(make_user(plan=make_plan(views=2), bonus_views=1))
    assert [is_unlocked_code(client, c.code) for c in many_codes[:4]] == [True] * 3 + [False]


def test_bonus_views_add_to_a_free_account(client, many_codes):
    client.force_login(make_user(bonus_views=2))
    assert [is_unlocked_code(client, c.code) for c in many_codes[:9]] == [True] * 8 + [False]


def test_staff_are_unlimited(client, many_codes):
    client.force_login(make_user(is_staff=True))
    assert all(is_unlocked_code(client, c.code) for c in many_codes)


def test_allowances_come_from_settings(client, settings, many_codes):
    settings.QUOTA_GUEST_VIEWS = 2
    assert [is_unlocked_code(client, c.code) for c in many_codes[:3]] == [True, True, False]


def test_guest_address_cap_stops_cookie_clearing(client, settings, many_codes):
    settings.QUOTA_GUEST_UNLOCKS_PER_ADDRESS = 3
    for code in many_codes[:3]:
        client.cookies.clear()
        assert is_unlocked_code(client, code.code)
    client.cookies.clear()
    response = page(client, many_codes[3].code)
    assert not is_unlocked(response)
    assert "network are used up for today" in response.content.decode()
    assert GuestAddressUse.objects.get().unlocks == 3
    # the refused guest got its view back: it did not count
    assert Meter.objects.filter(used=1).count() == 3


def test_address_cap_counts_per_client_address(client, settings, many_codes):
    settings.QUOTA_GUEST_UNLOCKS_PER_ADDRESS = 1
    assert is_unlocked(page(client, many_codes[0].code, REMOTE_ADDR="10.0.0.1"))
    client.cookies.clear()
    assert is_unlocked(page(client, many_codes[1].code, REMOTE_ADDR="10.0.0.2"))
    client.cookies.clear()
    assert not is_unlocked(page(client, many_codes[2].code, REMOTE_ADDR="10.0.0.1"))


def test_spoofed_forwarded_for_is_ignored_by_default(client, settings, many_codes):
    settings.QUOTA_GUEST_UNLOCKS_PER_ADDRESS = 1
    page(client, many_codes[0].code, HTTP_X_FORWARDED_FOR="1.2.3.4")
    client.cookies.clear()
    response = page(client, many_codes[1].code, HTTP_X_FORWARDED_FOR="5.6.7.8")
    assert not is_unlocked(response)


def test_trusted_proxy_hops_read_the_client_from_forwarded_for(client, settings, many_codes):
    settings.QUOTA_GUEST_UNLOCKS_PER_ADDRESS = 1
    settings.QUOTA_TRUSTED_PROXY_HOPS = 1
    page(client, many_codes[0].code, HTTP_X_FORWARDED_FOR="203.0.113.9, 1.2.3.4")
    client.cookies.clear()
    assert is_unlocked(page(client, many_codes[1].code, HTTP_X_FORWARDED_FOR="5.6.7.8"))
    assert set(GuestAddressUse.objects.values_list("address", flat=True)) == {"1.2.3.4", "5.6.7.8"}


def test_a_new_period_starts_a_new_count(client, facet_family, many_codes):
    user = make_user()
    viewer = quota.viewer_for(user=user, session={}, meta={"REMOTE_ADDR": "127.0.0.1"})
    november = datetime.datetime(2026, 11, 30, 23, 59, tzinfo=datetime.UTC)
    december = datetime.datetime(2026, 12, 1, 0, 1, tzinfo=datetime.UTC)
    for code in many_codes[:6]:
        assert quota.admit(viewer=viewer, code_id=code.pk, consume=True, now=november).granted
    assert not quota.admit(
        viewer=viewer, code_id=many_codes[6].pk, consume=True, now=november
    ).granted
    assert quota.admit(viewer=viewer, code_id=many_codes[6].pk, consume=True, now=december).granted


def test_the_gate_page_itself_costs_nothing(client, many_codes):
    page(client, many_codes[0].code)
    for _ in range(3):
        page(client, many_codes[1].code)
    assert Meter.objects.get().used == 1
    assert Unlock.objects.count() == 1


def test_address_capped_guest_sees_no_views_remaining(client, settings, many_codes):
    settings.QUOTA_GUEST_UNLOCKS_PER_ADDRESS = 1
    page(client, many_codes[0].code)
    client.cookies.clear()
    html = page(client, many_codes[1].code).content.decode()
    assert "0 code page views remaining." in html
    assert "1 code page view remaining" not in html


def test_guest_key_is_not_the_session_key(client, facet_family):
    client.get("/")  # no session yet
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["visited"] = True
    session.create()
    client.cookies["sessionid"] = session.session_key
    page(client, "64494")
    subject = Meter.objects.get().subject
    assert session.session_key not in subject
