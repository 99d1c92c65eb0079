"""casepilot.fragments: the markup and URLs that every page repeats are built once per worker,
and they can show nothing of a request, a viewer or the data."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.urls import set_script_prefix

PLANS = "/account/plans/"


def test_a_renderonce_block_is_rendered_once_and_then_replayed():
    template = Template('{% renderonce %}{% now "U u" %}{% endrenderonce %}')
    first = template.render(Context())
    time.sleep(0.002)
    assert template.render(Context()) == first
    assert Template('{% now "U u" %}').render(Context()) != first


def test_a_renderonce_block_sees_no_variable_of_the_page():
    template = Template("{% renderonce %}<b>{{ who }}</b>{% endrenderonce %}")
    assert template.render(Context({"who": "someone@example.com"})) == "<b></b>"


def test_a_renderonce_block_takes_no_arguments():
    with pytest.raises(TemplateSyntaxError, match="no arguments"):
        Template("{% renderonce user %}{% endrenderonce %}")


def test_a_url_with_literal_arguments_is_reversed_once():
    template = Template("{% url 'plans' %} {% url 'codes:system_detail' system='cpt' %}")
    with mock.patch("django.urls.reverse", side_effect=["/a/", "/b/", "/c/", "/d/"]) as reverse:
        first = template.render(Context())
        second = template.render(Context())
    assert first == second == "/a/ /b/"
    assert reverse.call_count == 2


def test_a_url_with_a_variable_is_reversed_each_time():
    template = Template("{% url 'codes:system_detail' system=prefix %}")
    assert template.render(Context({"prefix": "cpt"})) == "/cpt/"
    assert template.render(Context({"prefix": "hcpcs"})) == "/hcpcs/"
    stored = Template("{% url 'plans' as there %}[{{ there }}]")
    assert stored.render(Context()) == f"[{PLANS}]"


def test_each_script_prefix_gets_its_own_url():
    template = Template("{% url 'plans' %}|{% renderonce %}{% url 'plans' %}{% endrenderonce %}")
    assert template.render(Context()) == f"{PLANS}|{PLANS}"
    set_script_prefix("/casepilot/")
    try:
        assert template.render(Context()) == f"/casepilot{PLANS}|/casepilot{PLANS}"
    finally:
        set_script_prefix("/")


@pytest.mark.django_db
def test_the_header_still_greets_each_viewer_as_themselves(client):
    from tests.factories import make_user

    guest = client.get(PLANS).content.decode()
    assert f'href="/accounts/login/?next={PLANS}"' in guest
    client.force_login(make_user(email="coder@example.com"))
    member = client.get(PLANS).content.decode()
    assert "coder@example.com" in member and "/accounts/login/?next" not in member
    for html in (guest, member):
        assert 'href="/casepilot/"' in html and 'action="/search/"' in html
