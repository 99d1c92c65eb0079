"""Code pages through real URLs: content, canonical URLs, 404s, bad input, query counts."""

from __future__ import annotations

import pytest

from tests.factories import make_code, make_system, make_user

pytestmark = pytest.mark.django_db


def test_code_page_shows_official_and_plain_descriptions(client, facet_family):
    response = client.get("/cpt/64494/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Official descriptor of 64494 as published." in html
    assert "Plain words about 64494." in html
    assert "© Copyright 2025 American Medical Association" in html
    assert "Plain-language description © CasePilot" in html


def test_code_page_shows_breadcrumbs_of_its_group_tree(client, facet_family):
    html = client.get("/cpt/64494/").content.decode()
    crumbs = html[
        html.index('class="breadcrumbs"') : html.index("</nav>", html.index('class="breadcrumbs"'))
    ]
    assert (
        crumbs.index("Surgery")
        < crumbs.index("Nervous System")
        < crumbs.index("Paravertebral facet joint injections")
    )


def test_addon_code_links_its_primary_code_and_family(client, facet_family):
    html = client.get("/cpt/64494/").content.decode()
    assert "Report 64494 only in addition to its primary procedure" in html
    assert 'href="/cpt/64493/"' in html
    for number in ("64490", "64491", "64492", "64495"):
        assert f'href="/cpt/{number}/"' in html
    assert "64490–64495" in html


def test_primary_code_lists_its_addon_codes(client, facet_family):
    html = client.get("/cpt/64493/").content.decode()
    assert "Reported in addition to 64493" in html
    assert 'href="/cpt/64494/"' in html


def test_previous_and_next_codes_are_linked(client, facet_family):
    html = client.get("/cpt/64494/").content.decode()
    assert 'rel="prev" href="/cpt/64493/"' in html
    assert 'rel="next" href="/cpt/64495/"' in html


def test_code_without_plain_text_says_none_is_written_yet(client, cpt):
    make_code("36415", system=cpt, plain="")
    html = client.get("/cpt/36415/").content.decode()
    assert "No plain-language description has been written for this code yet." in html


def test_deleted_code_is_marked_deleted(client, cpt):
    make_code("99201", system=cpt, status="deleted")
    assert "Deleted" in client.get("/cpt/99201/").content.decode()


def test_icd_code_page_uses_its_dotted_canonical_spelling(client):
    make_code("M54.50", system=make_system("icd10cm"))
    response = client.get("/icd-10-cm/M54.50/")
    assert response.status_code == 200
    assert "ICD-10-CM is in the public domain." in response.content.decode()


def test_canonical_link_tag_points_at_the_one_url(client, facet_family):
    html = client.get("/cpt/64494/").content.decode()
    assert '<link rel="canonical" href="http://127.0.0.1:8000/cpt/64494/">' in html


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/cpt/64494", "/cpt/64494/"),
        ("/CPT/64494/", "/cpt/64494/"),
        ("/Cpt/64494", "/cpt/64494/"),
        ("/cpt/0213t/", "/cpt/0213T/"),
        ("/icd-10-cm/m5450/", "/icd-10-cm/M54.50/"),
        ("/icd-10-cm/M5450/", "/icd-10-cm/M54.50/"),
        ("/icd-10-cm/m54.50", "/icd-10-cm/M54.50/"),
        ("/ICD10CM/M54.50/", "/icd-10-cm/M54.50/"),
        ("/hcpcs/j1100/", "/hcpcs/J1100/"),
        ("/HCPCS/j1100", "/hcpcs/J1100/"),
    ],
)
def test_other_spellings_redirect_permanently_to_the_canonical_url(client, path, target):
    response = client.get(path)
    assert response.status_code == 301
    assert response["Location"] == target


def test_unknown_code_is_a_helpful_404_with_near_matches(client, facet_family):
    response = client.get("/cpt/64499/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "No CPT code 64499" in html
    assert 'href="/cpt/64494/"' in html  # a near match
    assert "Find a code" in html


@pytest.mark.parametrize(
    "raw",
    [
        "64494%00",
        "%00",
        "6" * 10_000,
        "%EF%BC%96%EF%BC%94%EF%BC%94%EF%BC%99%EF%BC%94",  # full-width digits
        "M%D0%9C54.50",  # a Cyrillic look-alike
        "..%2F..%2Fetc%2Fpasswd",
        "1'%20OR%20'1'='1",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "64494;DROP%20TABLE",
    ],
)
def test_malformed_codes_get_a_404_never_a_500(client, facet_family, raw):
    response = client.get(f"/cpt/{raw}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html


def test_unknown_path_gets_our_404_page(client):
    response = client.get("/no/such/page/here/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_post_to_a_code_page_is_refused(client, facet_family):
    assert client.post("/cpt/64494/").status_code == 405


def test_guest_first_view_query_count(client, facet_family, django_assert_max_num_queries):
    # nothing cached yet: the version, the code, its tree, its related codes, the metering
    # decision (with CasePilot's questions left) and the new session
    with django_assert_max_num_queries(6):
        assert client.get("/cpt/64494/").status_code == 200


def test_guest_review_query_count(client, facet_family, django_assert_max_num_queries):
    client.get("/cpt/64494/")
    # the data version, the session, the metering decision (with CasePilot's questions left)
    with django_assert_max_num_queries(3):
        assert client.get("/cpt/64494/").status_code == 200


def test_account_first_view_query_count(client, facet_family, django_assert_max_num_queries):
    # an account also gets the seven knowledge sections, and the page reads the data version
    # of its cached parts and its own star and note (CasePilot's questions left come with the
    # metering decision): 16 queries while nothing is cached
    client.force_login(make_user())
    with django_assert_max_num_queries(16):
        assert client.get("/cpt/64493/").status_code == 200


def test_account_re_read_costs_five_queries(client, facet_family, django_assert_num_queries):
    # the session, the account, the data version, the metering decision (which also counts
    # CasePilot's questions left) and the viewer's own star and note: every part of the page
    # is cached, what is the viewer's own never is
    client.force_login(make_user())
    client.get("/cpt/64493/")
    with django_assert_num_queries(5):
        response = client.get("/cpt/64493/")
    assert "Official descriptor of 64493" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"


def test_home_page_query_count(client, facet_family, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert client.get("/").status_code == 200


def test_canonical_redirect_keeps_the_date_of_service(client):
    response = client.get("/cpt/64494?dos=2024-03-01")
    assert response.status_code == 301
    assert response["Location"] == "/cpt/64494/?dos=2024-03-01"


def test_account_page_has_a_table_of_contents_of_its_sections(client, facet_family):
    client.force_login(make_user())
    html = client.get("/cpt/64494/").content.decode()
    toc = html[html.index('id="toc-title"') :]
    assert (
        toc.index('href="#guidelines"')
        < toc.index('href="#payment"')
        < toc.index('href="#history"')
    )


def test_guest_page_has_no_table_of_contents(client, facet_family):
    assert 'id="toc-title"' not in client.get("/cpt/64494/").content.decode()


def test_icd_categories_with_a_letter_second_have_pages(client):
    make_code("QA0.0101", system=make_system("icd10cm"))
    assert client.get("/icd-10-cm/qa00101/")["Location"] == "/icd-10-cm/QA0.0101/"
    assert client.get("/icd-10-cm/QA0.0101/").status_code == 200


@pytest.fixture
def big_range(cpt) -> None:
    """Sixty codes in one range: more than the page's family window shows."""
    from tests.factories import make_group

    group = make_group(cpt, title="Big range", code_from="20000", code_to="20099")
    for n in range(60):
        make_code(f"200{n:02d}", system=cpt, group=group)


def test_a_large_family_shows_a_window_around_the_code_and_links_the_group(client, big_range):
    html = client.get("/cpt/20030/").content.decode()
    family = html[html.index('id="family"') :]
    assert 'href="/cpt/20018/"' in family and 'href="/cpt/20042/"' in family
    assert 'href="/cpt/20017/"' not in family and 'href="/cpt/20043/"' not in family
    assert "All codes in Big range" in family


def test_a_large_family_costs_no_extra_query(client, big_range, django_assert_max_num_queries):
    # version, code, its tree, related codes, metering (with CasePilot's questions left),
    # new session: as for any code page
    with django_assert_max_num_queries(6):
        client.get("/cpt/20015/")


def test_a_small_family_is_listed_whole_without_a_more_link(client, facet_family):
    html = client.get("/cpt/64494/").content.decode()
    assert "All codes in" not in html


@pytest.mark.parametrize("raw", ["%00", "2%005", "5", "599", "a" * 10_000, "%E2%80%8B5"])
def test_malformed_modifier_urls_are_404s(client, raw):
    assert client.get(f"/modifiers/{raw}/").status_code == 404


def test_home_lists_the_code_sets_in_their_order(client):
    for slug in ("icd10cm", "hcpcs", "cpt"):
        system = make_system(slug)
        system.sort = {"cpt": 1, "hcpcs": 2, "icd10cm": 3}[slug]
        system.save()
    html = client.get("/").content.decode()
    assert (
        html.index(">CPT</a></h3>")
        < html.index(">HCPCS</a></h3>")
        < html.index(">ICD-10-CM</a></h3>")
    )


def test_not_found_page_offers_a_search_box_filled_with_the_code(client, facet_family):
    html = client.get("/cpt/64499/").content.decode()
    assert 'name="q" value="64499"' in html
    assert 'action="/search/"' in html


def test_snippet_is_cut_at_a_word_boundary(cpt):
    code = make_code("36415", system=cpt, plain="word " * 60 + "end. Second sentence.")
    snippet = code.first_sentence()
    assert snippet.endswith("word…") and len(snippet) <= 220


def test_server_error_page_renders_without_the_static_manifest(rf):
    from casepilot.errors import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert b'href="/static/css/site.css"' in response.content
