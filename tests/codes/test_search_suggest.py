"""The header search box, its autocomplete feed and the script behind it, and robots.txt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import Meter
from tests.codes.test_search import catalogue  # noqa: F401 - the shared fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogue")]

SCRIPT = Path(settings.BASE_DIR) / "static" / "js" / "search.js"


def suggested(response) -> list[str]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return [item["code"] for item in response.json()["results"]]


def test_every_page_has_the_search_box_working_without_javascript(client):
    html = client.get("/cpt/").content.decode()
    form = re.search(
        r'<form class="site-search" role="search" action="/search/" method="get"', html
    )
    assert form, "the header box is a plain GET form to the search page"
    assert re.search(r'<input id="site-search-q"[^>]*name="q"[^>]*data-search-suggest', html)
    assert '<label class="visually-hidden" for="site-search-q">' in html
    assert '<a href="/search/">Case2Code</a>' in html


def test_the_script_is_loaded_deferred_and_no_script_is_inline(client):
    html = client.get("/search/", {"q": "6449"}).content.decode()
    assert re.search(r'<script src="/static/js/search\.js" defer></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "style=" not in html


def test_the_script_follows_the_combobox_pattern():
    script = SCRIPT.read_text()
    for needed in [
        '"combobox"',
        '"listbox"',
        '"option"',
        "aria-activedescendant",
        "aria-expanded",
        "ArrowDown",
        "ArrowUp",
        "Escape",
        "Enter",
        '"/"',
    ]:
        assert needed in script
    assert "innerHTML" not in script  # suggestions are text, never markup


def test_suggestions_for_the_start_of_a_code(client):
    assert suggested(client.get("/search/suggest/", {"q": "6449"}))[:6] == [
        "64490",
        "64491",
        "64492",
        "64493",
        "64494",
        "64495",
    ]


def test_suggestions_for_words_take_the_last_one_as_a_beginning(client):
    codes = suggested(client.get("/search/suggest/", {"q": "lumbar facet inj"}))
    assert set(codes[:3]) == {"64493", "64494", "64495"}
    codes = suggested(client.get("/search/suggest/", {"q": "zygapo"}))
    assert len(codes) == 6


def test_suggestions_carry_code_title_and_url_but_no_official_descriptor(client):
    response = client.get("/search/suggest/", {"q": "64494"})
    item = response.json()["results"][0]
    assert item == {
        "code": "64494",
        "system": "CPT",
        "title": "Inj paravert f jnt l/s 2 lev",
        "url": "/cpt/64494/",
    }
    assert "innervating" not in response.content.decode()
    assert response.json()["search_url"] == "/search/?q=64494"


def test_suggestions_are_few_and_cheap(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # synonyms and codes
        codes = suggested(client.get("/search/suggest/", {"q": "injection"}))
    assert 0 < len(codes) <= 8


def test_suggestions_for_nothing_are_empty(client):
    assert suggested(client.get("/search/suggest/", {"q": ""})) == []
    assert suggested(client.get("/search/suggest/", {"q": "%%"})) == []


def test_a_refused_suggestion_query_is_a_clear_json_error(client):
    response = client.get("/search/suggest/", {"q": "x" * 300})
    assert response.status_code == 400
    assert "limited to 200 characters" in response.json()["error"]


def test_suggestions_never_spend_a_view(client):
    for q in ["64494", "lumbar", "j1100"]:
        client.get("/search/suggest/", {"q": q})
    assert Meter.objects.count() == 0


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_off_search(client, settings):
    settings.SITE_URL = "https://casepilot.example"
    response = client.get("/robots.txt")
    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "User-agent: *" in text
    assert "Disallow: /search/" in text and "Disallow: /admin/" in text
    assert "Sitemap: https://casepilot.example/sitemap.xml" in text
    assert "Disallow: /cpt/" not in text


def test_the_search_page_is_kept_out_of_search_engines(client):
    html = client.get("/search/", {"q": "6449"}).content.decode()
    assert '<meta name="robots" content="noindex, follow">' in html
