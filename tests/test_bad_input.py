"""The bad-input corpus (bench/_corpus.py) against every URL pattern and every form, through
the test client: no response may be a 5xx. The whole corpus runs over HTTP in `make loadtest`;
this is its quick sample."""

from __future__ import annotations

import pytest
from django.test import Client

from bench import _corpus
from bench._corpus import Probe
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def send(client: Client, probe: Probe):
    for name, value in probe.cookies.items():
        client.cookies[name] = value
    try:
        if probe.method == "HEAD":
            return client.head(probe.path)
        if probe.method == "GET":
            return client.get(probe.path)
        if probe.body is not None:
            return client.generic(
                "POST", probe.path, probe.body, content_type="application/x-www-form-urlencoded"
            )
        data = dict(probe.data or {})
        if probe.csrf is not None:
            data["csrfmiddlewaretoken"] = probe.csrf
        return client.post(probe.path, data)
    finally:
        for name in probe.cookies:
            del client.cookies[name]


def server_errors(client: Client, probes) -> list[str]:
    failures = []
    for probe in probes:
        try:
            status = send(client, probe).status_code
        except Exception as error:  # the test client re-raises what became a 500
            failures.append(f"{probe.method} {probe.path[:120]!r}: {error!r}"[:300])
            continue
        if status >= 500:
            failures.append(f"{probe.method} {probe.path[:120]!r}: {status}")
    return failures


@pytest.fixture
def site(facet_family):
    group = facet_family["64494"].group
    _corpus.PATH_DEFAULTS.update(slug=group.slug, object_id=str(facet_family["64494"].pk))


def test_no_url_pattern_answers_a_hostile_value_with_a_server_error(site):
    assert server_errors(Client(), _corpus.url_probes(size="quick")) == []


def test_no_url_pattern_answers_a_hostile_value_with_a_server_error_for_staff(site):
    staff = Client()
    staff.force_login(make_user(is_staff=True, is_superuser=True))
    probes = [p for p in _corpus.url_probes(size="quick") if p.path.startswith("/admin/")]
    assert server_errors(staff, probes) == []


def test_malformed_cookies_never_cause_a_server_error(site):
    paths = ["/", "/cpt/64494/", "/search/?q=knee", "/accounts/login/", "/healthz"]
    assert server_errors(Client(), _corpus.cookie_probes(paths=paths)) == []


def test_every_form_takes_hostile_values_bad_csrf_tokens_and_oversized_bodies(site):
    anonymous = Client()
    forms = []
    for path in (
        "/",
        "/cpt/64494/",
        "/search/?q=knee",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
    ):
        forms += _corpus.forms_in(anonymous.get(path).content.decode(), path.split("?")[0])
    assert len({action for action, _, _ in forms}) >= 4  # the forms were found
    assert server_errors(anonymous, _corpus.form_probes(forms=forms, size="quick")) == []
    strict = Client(enforce_csrf_checks=True)
    csrf_probes = [p for p in _corpus.form_probes(forms=forms) if p.csrf is not None]
    assert csrf_probes and server_errors(strict, csrf_probes) == []
