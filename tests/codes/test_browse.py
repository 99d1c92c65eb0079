"""Browsing a code system's tree: /cpt/ → sections → … → codes, with counts and breadcrumbs."""

from __future__ import annotations

import re

import pytest

from accounts.models import Meter
from codes.models import Code
from tests.factories import make_code, make_group

pytestmark = pytest.mark.django_db


def counts(response) -> dict[str, str]:
    html = response.content.decode()
    pairs = re.findall(
        r'group-list__title">([^<]+)</span>.*?browse-count">([^<]+)</span>', html, re.S
    )
    return dict(pairs)


def test_a_system_page_lists_its_sections_with_active_code_counts(client, facet_family, cpt):
    medicine = make_group(cpt, title="Medicine", kind="section", code_from="90281")
    make_code("96372", system=cpt, group=medicine)
    make_code("96373", system=cpt, group=medicine, status="deleted")
    response = client.get("/cpt/")
    assert response.status_code == 200
    assert counts(response) == {"Surgery": "6 codes", "Medicine": "1 code"}
    assert "7 active codes" in response.content.decode()


def test_codes_not_filed_under_a_group_are_reachable_from_the_system_page(
    client, facet_family, cpt
):
    make_code("0213T", system=cpt)
    html = client.get("/cpt/").content.decode()
    assert "including 1 not yet filed under a section" in html
    assert 'href="/search/?system=cpt"' in html


def test_a_group_page_shows_breadcrumbs_children_and_counts(client, facet_family):
    nervous = facet_family["64494"].group.parent
    response = client.get(nervous.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert counts(response) == {"Paravertebral facet joint injections": "6 codes"}
    assert re.search(r'aria-label="Breadcrumb".*Surgery', html, re.S)
    assert "Nervous System" in html and "6 active codes" in html


def test_a_leaf_group_lists_its_codes_in_code_order(client, facet_family):
    response = client.get(facet_family["64494"].group.get_absolute_url())
    codes = re.findall(r'code-list__code">([^<]+)<', response.content.decode())
    assert codes == ["64490", "64491", "64492", "64493", "64494", "64495"]


def test_a_group_page_offers_a_search_within_the_group(client, facet_family):
    group = facet_family["64494"].group
    html = client.get(group.get_absolute_url()).content.decode()
    assert f'name="group" value="{group.slug}"' in html
    assert 'name="system" value="cpt"' in html


def test_a_long_group_is_paginated(client, cpt):
    group = make_group(cpt, title="Wound repair")
    for n in range(105):
        make_code(f"1{n:04d}", system=cpt, group=group)
    first = client.get(group.get_absolute_url())
    second = client.get(group.get_absolute_url(), {"page": "2"})
    assert len(re.findall(r'code-list__code">', first.content.decode())) == 100
    assert re.findall(r'code-list__code">([^<]+)<', second.content.decode()) == [
        "10100",
        "10101",
        "10102",
        "10103",
        "10104",
    ]
    assert client.get(group.get_absolute_url(), {"page": "3"}).status_code == 404
    assert client.get(group.get_absolute_url(), {"page": "two"}).status_code == 404
    assert client.get(group.get_absolute_url(), {"page": "1" * 5000}).status_code == 404


def test_browsing_is_free(client, facet_family):
    client.get("/cpt/")
    client.get(facet_family["64494"].group.get_absolute_url())
    assert Meter.objects.count() == 0
    assert "quota_guest" not in client.session


def test_browse_pages_never_show_official_descriptors(client, facet_family):
    html = client.get(facet_family["64494"].group.get_absolute_url()).content.decode()
    assert "Official descriptor of 64494" not in html
    assert "Plain words about" not in html


def test_system_page_query_count_is_pinned(client, facet_family, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # system, roots, cached counts, counts, totals
        assert client.get("/cpt/").status_code == 200


def test_group_page_query_count_does_not_grow_with_codes(
    client, cpt, django_assert_max_num_queries
):
    group = make_group(cpt, title="Wound repair")
    for n in range(40):
        make_code(f"1{n:04d}", system=cpt, group=group)
    make_group(cpt, title="Child", parent=group)
    # system, group and parents, children, cached counts, counts, codes
    with django_assert_max_num_queries(6):
        assert client.get(group.get_absolute_url()).status_code == 200
    assert Code.objects.filter(group=group).count() == 40


def test_counts_of_a_whole_large_code_set_are_kept_for_a_while(client, facet_family, monkeypatch):
    from codes import search

    monkeypatch.setattr(search, "BIG_BRANCH_CODES", 5)
    assert counts(client.get("/cpt/")) == {"Surgery": "6 codes"}
    Code.objects.filter(key="64495").update(status="deleted")
    assert counts(client.get("/cpt/")) == {"Surgery": "6 codes"}  # from the cache
    monkeypatch.setattr(search, "BIG_BRANCH_CODES", 10**9)
    group = facet_family["64494"].group
    assert "5 active codes" in client.get(group.get_absolute_url()).content.decode()
