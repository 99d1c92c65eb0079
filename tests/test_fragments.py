"""`{% renderonce %}`: the markup that every page repeats is built once per worker, and it can
show nothing of a request, a viewer or the data."""

from __future__ import annotations

from unittest import mock

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.urls import set_script_prefix

SOURCE = (
    "{% load fragments %}"
    "{% renderonce %}<a href=\"{% url 'plans' %}\">{{ who }}</a>{% endrenderonce %}"
)


def test_the_block_is_rendered_once_and_then_replayed():
    template = Template(SOURCE)
    with mock.patch("django.urls.reverse", return_value="/account/plans/") as reverse:
        first = template.render(Context())
        second = template.render(Context())
    assert first == second == '<a href="/account/plans/"></a>'
    assert reverse.call_count == 1


def test_the_block_sees_no_variable_of_the_page():
    html = Template(SOURCE).render(Context({"who": "someone@example.com"}))
    assert "someone@example.com" not in html
    assert html == '<a href="/account/plans/"></a>'


def test_each_script_prefix_gets_its_own_copy():
    template = Template(SOURCE)
    assert template.render(Context()) == '<a href="/account/plans/"></a>'
    set_script_prefix("/casepilot/")
    try:
        assert template.render(Context()) == '<a href="/casepilot/account/plans/"></a>'
    finally:
        set_script_prefix("/")


def test_the_block_takes_no_arguments():
    with pytest.raises(TemplateSyntaxError, match="no arguments"):
        Template("{% load fragments %}{% renderonce user %}{% endrenderonce %}")


@pytest.mark.django_db
def test_the_header_still_greets_each_viewer_as_themselves(client):
    from tests.factories import make_user

    guest = client.get("/account/plans/").content.decode()
    assert 'href="/accounts/login/?next=/account/plans/"' in guest
    client.force_login(make_user(email="coder@example.com"))
    member = client.get("/account/plans/").content.decode()
    assert "coder@example.com" in member and "/accounts/login/?next" not in member
    for html in (guest, member):
        assert 'href="/casepilot/"' in html and 'action="/search/"' in html
