"""The allowances other than code pages (claim checks first), on the same meter: quota.py
tested directly, then N parallel spends against k remaining."""

from __future__ import annotations

import datetime
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connections
from django.test import Client

from accounts import quota
from accounts.models import Meter
from tests.factories import make_plan, make_user


def at(y: int, m: int, d: int) -> datetime.datetime:
    return datetime.datetime(y, m, d, 12, tzinfo=datetime.UTC)


@pytest.fixture
def daily_questions(settings) -> None:
    """A second resource with a daily period, as CasePilot questions will have."""
    settings.QUOTA_RESOURCES = {
        **settings.QUOTA_RESOURCES,
        "questions": {"period": "day", "guest": 3, "free": 30, "paid": None},
    }


def test_each_resource_has_its_own_period():
    assert quota.period_bounds(now=at(2026, 12, 15), period="day") == (
        datetime.date(2026, 12, 15),
        datetime.date(2026, 12, 16),
    )
    assert quota.period_bounds(now=at(2026, 12, 15), period="month")[0] == datetime.date(
        2026, 12, 1
    )


@pytest.mark.django_db
def test_claim_check_allowances_follow_the_design_table():
    assert quota.claim_check_allowance(user=AnonymousUser()).allowance == 0
    assert quota.claim_check_allowance(user=make_user()).allowance == 10
    assert quota.claim_check_allowance(user=make_user(verified=False)).allowance == 0
    assert quota.claim_check_allowance(user=make_user(plan=make_plan())).is_unlimited
    assert quota.claim_check_allowance(user=make_user(is_staff=True)).is_unlimited


@pytest.mark.django_db
def test_a_free_account_spends_exactly_its_allowance_then_is_refused(settings):
    settings.QUOTA_RESOURCES = {
        "claim_checks": {**settings.QUOTA_RESOURCES["claim_checks"], "free": 2}
    }
    user = make_user()
    spent = [quota.claim_check_spend(user=user, now=at(2026, 12, 3)) for _ in range(3)]
    assert [s.granted for s in spent] == [True, True, False]
    assert [s.remaining for s in spent] == [1, 0, 0]
    meter = Meter.objects.get()
    assert (meter.resource, meter.used, meter.period_start) == (
        "claim_checks",
        2,
        datetime.date(2026, 12, 1),
    )
    # A new month starts afresh.
    assert quota.claim_check_spend(user=user, now=at(2027, 1, 2)).granted


@pytest.mark.django_db
def test_a_guest_never_spends_a_claim_check():
    spend = quota.claim_check_spend(user=AnonymousUser())
    assert not spend.granted
    assert not Meter.objects.exists()


@pytest.mark.django_db
def test_claim_checks_and_code_pages_are_counted_apart(facet_family):
    user = make_user()
    viewer = quota.viewer_for(user=user, session={}, meta={"REMOTE_ADDR": "127.0.0.1"})
    quota.admit(viewer=viewer, code_id=facet_family["64494"].pk, consume=True)
    quota.claim_check_spend(user=user)
    quota.claim_check_spend(user=user)
    assert quota.usage_for(viewer=viewer).used == 1
    assert quota.claim_check_usage(user=user).used == 2
    assert sorted(Meter.objects.values_list("resource", "used")) == [
        ("claim_checks", 2),
        ("pages", 1),
    ]


@pytest.mark.django_db
def test_admitting_a_page_counts_the_other_allowance_it_is_asked_for(facet_family):
    user = make_user()
    questions = quota.question_allowance(user=user)
    for _ in range(3):
        quota.resource_spend(allowance=questions, subject=f"u:{user.pk}", user_id=user.pk)
    viewer = quota.viewer_for(user=user, session={}, meta={"REMOTE_ADDR": "127.0.0.1"})
    admission = quota.admit(
        viewer=viewer, code_id=facet_family["64494"].pk, consume=True, also=questions
    )
    assert admission.granted and admission.also is not None
    assert admission.also.used == 3 == quota.question_usage(user=user, session={}).used
    assert admission.also.remaining == questions.allowance - 3
    # counted, not spent: the meter is as it was
    assert Meter.objects.get(resource="questions").used == 3
    assert quota.question_usage(user=user, session={}, admission=admission) is admission.also


@pytest.mark.django_db
def test_a_new_guest_declined_a_prefetch_has_used_no_question():
    questions = quota.question_allowance(user=AnonymousUser())
    viewer = quota.viewer_for(user=AnonymousUser(), session={}, meta={})
    admission = quota.admit(viewer=viewer, code_id=1, consume=False, also=questions)
    assert admission.reason == "not_consumed"
    assert admission.also.used == 0 and admission.also.remaining == questions.allowance


@pytest.mark.django_db
def test_a_daily_resource_renews_each_day(daily_questions):
    allowance = quota.allowance_for(resource="questions", user=AnonymousUser())
    spend = [
        quota.resource_spend(allowance=allowance, subject="g:k", user_id=None, now=at(2026, 12, 3))
        for _ in range(4)
    ]
    assert [s.granted for s in spend] == [True, True, True, False]
    tomorrow = quota.resource_spend(
        allowance=allowance, subject="g:k", user_id=None, now=at(2026, 12, 4)
    )
    assert tomorrow.granted and tomorrow.used == 1


def test_an_unknown_resource_is_a_programming_error():
    with pytest.raises(ValueError, match="No allowance"):
        quota.allowance_for(resource="nothing", user=AnonymousUser())


def _spend_in_thread(user) -> bool:
    try:
        return quota.claim_check_spend(user=user).granted
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("parallel", "left"), [(20, 4), (3, 10)])
def test_parallel_claim_checks_spend_exactly_what_is_left(parallel, left):
    user = make_user()
    for _ in range(10 - left):
        assert quota.claim_check_spend(user=user).granted
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: _spend_in_thread(user), range(parallel)))
    assert sum(results) == min(parallel, left)
    assert Meter.objects.get(resource="claim_checks").used == 10 - left + min(parallel, left)


def _post_claim(url: str, opener, token: str) -> int:
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "dos": "2024-06-03",
            "place": "nonfacility",
            "paste": "64493\n77003 XS",
            "line-TOTAL_FORMS": "0",
            "line-INITIAL_FORMS": "0",
        }
    ).encode()
    request = urllib.request.Request(url, data=body, headers={"Referer": url})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
def test_parallel_claim_check_requests_to_the_server_check_exactly_what_is_left(
    live_server, facet_family, settings
):
    from claims.models import ClaimCheck

    user = make_user()
    for _ in range(7):  # 3 of 10 left
        quota.claim_check_spend(user=user)
    client = Client()
    client.force_login(user)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    url = f"{live_server.url}/claim-check/"
    opener.addheaders = [
        (
            "Cookie",
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
        )
    ]
    with opener.open(url, timeout=30) as response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode())
    csrf = next(cookie.value for cookie in jar if cookie.name == settings.CSRF_COOKIE_NAME)
    opener.addheaders = [
        (
            "Cookie",
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf}",
        )
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: _post_claim(url, opener, token.group(1)), range(8)))
    assert sorted(statuses) == [302] * 3 + [403] * 5
    assert ClaimCheck.objects.filter(user=user).count() == 3
    assert Meter.objects.get(resource="claim_checks").used == 10


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
