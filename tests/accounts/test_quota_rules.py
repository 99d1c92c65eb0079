"""accounts.quota tested directly: periods, addresses, allowances."""

from __future__ import annotations

import datetime

import pytest

from accounts import quota


def at(y: int, m: int, d: int) -> datetime.datetime:
    return datetime.datetime(y, m, d, 12, tzinfo=datetime.UTC)


def test_month_period_runs_from_the_first_to_the_next_first(settings):
    settings.QUOTA_PERIOD = "month"
    assert quota.period_bounds(now=at(2026, 12, 31)) == (
        datetime.date(2026, 12, 1),
        datetime.date(2027, 1, 1),
    )


def test_week_period_starts_on_monday(settings):
    settings.QUOTA_PERIOD = "week"
    start, end = quota.period_bounds(now=at(2026, 11, 28))  # a Saturday
    assert start == datetime.date(2026, 11, 23) and end == datetime.date(2026, 11, 30)


def test_period_is_taken_in_utc(settings):
    settings.QUOTA_PERIOD = "day"
    late_in_new_york = datetime.datetime(
        2026, 11, 30, 22, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
    )
    assert quota.period_bounds(now=late_in_new_york)[0] == datetime.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("headers", "consumes"),
    [
        (("GET", {}), True),
        (("HEAD", {}), False),
        (("POST", {}), False),
        (("GET", {"Sec-Purpose": "prefetch"}), False),
        (("GET", {"Sec-Purpose": "prefetch;prerender"}), False),
        (("GET", {"Purpose": "prefetch"}), False),
    ],
)
def test_which_requests_may_spend_a_view(headers, consumes):
    method, values = headers
    assert quota.request_may_consume(method=method, headers=values) is consumes


def test_client_address_ignores_forwarded_for_without_trusted_hops(settings):
    settings.QUOTA_TRUSTED_PROXY_HOPS = 0
    meta = {"REMOTE_ADDR": "10.1.1.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}
    assert quota.client_address(meta=meta) == "10.1.1.1"


def test_client_address_takes_the_hop_our_proxies_saw(settings):
    settings.QUOTA_TRUSTED_PROXY_HOPS = 2
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.7, 10.0.0.1"}
    assert quota.client_address(meta=meta) == "198.51.100.7"


def test_client_address_survives_garbage(settings):
    settings.QUOTA_TRUSTED_PROXY_HOPS = 1
    assert (
        quota.client_address(meta={"REMOTE_ADDR": "x", "HTTP_X_FORWARDED_FOR": "<script>"})
        == "0.0.0.0"
    )
