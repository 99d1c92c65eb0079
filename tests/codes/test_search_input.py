"""Bad input to the search page and the autocomplete feed: a clear page, never a 500."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from codes import search as case2code
from tests.codes.test_search import catalogue, listed  # noqa: F401 - the shared fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogue")]


def test_an_empty_query_shows_how_to_search(client):
    response = client.get("/search/", {"q": ""})
    assert response.status_code == 200
    assert "How to search" in response.content.decode()


def test_no_query_at_all_shows_how_to_search(client):
    response = client.get("/search/")
    assert response.status_code == 200
    assert "How to search" in response.content.decode()


def test_a_very_long_query_is_refused_with_a_clear_message(client):
    response = client.get("/search/", {"q": "lumbar " * 715})  # 5,005 characters
    assert response.status_code == 400
    assert "Searches are limited to 200 characters" in response.content.decode()


def test_a_nul_byte_is_refused_before_the_database(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/search/?q=644%0094")
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert not any("\x00" in query["sql"] for query in captured.captured_queries)


def test_nul_bytes_in_filters_and_pages_are_refused_too(client):
    assert client.get("/search/?q=injection&system=cpt%00").status_code == 400
    assert client.get("/search/?q=injection&page=1%00").status_code == 400
    assert client.get("/search/?q=injection&group=a%00b&system=cpt").status_code == 400
    assert client.get("/search/suggest/?q=inj%00").status_code == 400


@pytest.mark.parametrize("q", ["%", "_", "%%%", "...", "!!!", "—", "()"])
def test_punctuation_alone_gets_a_friendly_message(client, q):
    response = client.get("/search/", {"q": q})
    assert response.status_code == 200
    assert "has no letters or digits to search for" in response.content.decode()
    assert listed(response) == []


def test_like_wildcards_are_taken_literally(client):
    assert listed(client.get("/search/", {"q": "6449_"})) == []
    assert listed(client.get("/search/", {"q": "%4494"})) == []


@pytest.mark.parametrize(
    "q",
    [
        "'; DROP TABLE codes_code; --",
        "64494' OR '1'='1",
        "injection & | ! :* <->",
        "facet) | (lumbar",
        "\\x00 \\' \"",
    ],
)
def test_sql_fragments_are_searched_as_text(client, q):
    response = client.get("/search/", {"q": q})
    assert response.status_code in (200, 302)
    assert client.get("/search/", {"q": "64490-64495"}).status_code == 200  # table intact


def test_html_in_a_query_is_shown_escaped(client):
    response = client.get("/search/", {"q": '<script>alert("x")</script> injection'})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_html_in_a_refused_query_is_shown_escaped(client):
    response = client.get("/search/", {"q": "<b>bold</b>" + "x" * 300})
    assert response.status_code == 400
    assert "<b>bold</b>" not in response.content.decode()


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "99999999999999999999", "²", "1" * 5000])
def test_a_page_that_is_not_a_number_is_refused(client, page):
    response = client.get("/search/", {"q": "6449", "page": page})
    assert response.status_code == 400
    assert "page number must be a whole number" in response.content.decode()


def test_a_page_past_the_end_says_where_the_results_end(client):
    response = client.get("/search/", {"q": "6449", "page": "9"})
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page 9 is past the end" in html
    assert "page=1" in html and listed(response) == []


def test_a_word_search_page_past_the_end_is_friendly_too(client):
    response = client.get("/search/", {"q": "injection", "page": "50"})
    assert response.status_code == 404
    assert "past the end" in response.content.decode()


@pytest.mark.parametrize(
    ("q", "page"),
    [
        ("６４４９４", "/cpt/64494/"),  # full-width digits
        ("Ｍ５４．５０", "/icd-10-cm/M54.50/"),  # full-width letters and full stop
        ("М54.50", "/icd-10-cm/M54.50/"),  # a Cyrillic М
        ("J\u200b1100", "/hcpcs/J1100/"),  # a zero-width space pasted inside
    ],
)
def test_unicode_look_alikes_of_a_code_find_it(client, q, page):
    response = client.get("/search/", {"q": q})
    assert response.status_code == 302
    assert response["Location"] == page


def test_unicode_words_and_emoji_are_searched_without_error(client):
    for q in ["lumbar ﬁacet injection", "🦴 injection", "ｉｎｊｅｃｔｉｏｎ", "zygapophyséal"]:
        assert client.get("/search/", {"q": q}).status_code == 200


def test_a_range_across_code_sets_is_not_a_range(client):
    response = client.get("/search/", {"q": "64490-M54.50"})
    assert response.status_code == 200


def test_unknown_filters_are_refused_clearly(client):
    response = client.get("/search/", {"q": "injection", "system": "snomed"})
    assert response.status_code == 400
    assert "Choose a code set" in response.content.decode()
    assert client.get("/search/", {"q": "x", "status": "gone"}).status_code == 400
    assert client.get("/search/", {"q": "x", "group": "some-group"}).status_code == 400
    missing = client.get("/search/", {"q": "x", "system": "cpt", "group": "no-such-group"})
    assert missing.status_code == 400
    assert "does not exist" in missing.content.decode()


def test_query_parse_rejects_before_any_work():
    with pytest.raises(case2code.QueryRejected):
        case2code.query_parse(raw="a\x00b")
    with pytest.raises(case2code.QueryRejected):
        case2code.query_parse(raw="x" * 201)
    assert case2code.query_parse(raw="x" * 200).kind == "words"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("64494", "code"),
        ("m54.50", "code"),
        ("6449*", "code"),
        ("64490-64495", "range"),
        ("99202 to 99215", "range"),
        ("99213, 99214", "codes"),
        ("x-ray chest", "words"),
        ("lumbar facet", "words"),
        ("", "empty"),
        ("  ", "empty"),
        ("%_", "blank"),
    ],
)
def test_a_query_is_read_by_its_shape(raw, kind):
    assert case2code.query_parse(raw=raw).kind == kind


def test_key_successor_bounds_every_key_with_a_prefix():
    assert case2code.key_successor("6449") == "644A"
    assert case2code.key_successor("M54Z") == "M55"
    assert case2code.key_successor("ZZ") is None
    for key in ["64490", "6449Z", "6449ZZ"]:
        assert "6449" <= key < case2code.key_successor("6449")


def test_the_error_page_keeps_the_search_box(client):
    html = client.get("/search/", {"q": "x" * 500}).content.decode()
    assert re.search(r'<input id="search-page-q"[^>]*value="x{80}"', html)
