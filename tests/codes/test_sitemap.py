"""sitemap.xml: every active code page, the browse pages, files of at most 50,000 URLs."""

from __future__ import annotations

import re

import pytest

from codes.sitemaps import CodeSitemap, SiteUrlSitemap
from tests.factories import make_code, make_system

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://casepilot.example"


def locations(response) -> list[str]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    return re.findall(r"<loc>([^<]+)</loc>", response.content.decode())


def test_the_index_lists_one_sitemap_per_section(client, facet_family):
    found = locations(client.get("/sitemap.xml"))
    assert found == [
        "https://casepilot.example/sitemap-browse.xml",
        "https://casepilot.example/sitemap-cpt.xml",
        "https://casepilot.example/sitemap-hcpcs.xml",
        "https://casepilot.example/sitemap-icd-10-cm.xml",
        "https://casepilot.example/sitemap-careers.xml",
    ]


def test_a_code_sitemap_holds_every_active_code_page_at_its_canonical_url(
    client, facet_family, cpt
):
    make_code("64479", system=cpt, status="deleted")
    found = locations(client.get("/sitemap-cpt.xml"))
    assert found == [f"https://casepilot.example/cpt/{n}/" for n in sorted(facet_family)]
    assert all(
        f"https://casepilot.example{code.get_absolute_url()}" in found
        for code in facet_family.values()
    )


def test_icd_codes_appear_with_their_dot(client):
    icd = make_system("icd10cm")
    make_code("M54.50", system=icd)
    assert locations(client.get("/sitemap-icd-10-cm.xml")) == [
        "https://casepilot.example/icd-10-cm/M54.50/"
    ]


def test_each_url_has_a_last_modified_date(client, facet_family):
    xml = client.get("/sitemap-cpt.xml").content.decode()
    assert xml.count("<lastmod>") == 6


def test_the_browse_sitemap_holds_home_systems_and_groups(client, facet_family):
    found = locations(client.get("/sitemap-browse.xml"))
    family = facet_family["64494"].group
    assert "https://casepilot.example/" in found
    assert "https://casepilot.example/cpt/" in found
    assert f"https://casepilot.example{family.get_absolute_url()}" in found


def test_a_large_system_is_split_into_files_of_the_limit(client, facet_family, monkeypatch):
    monkeypatch.setattr(SiteUrlSitemap, "limit", 4)
    index = locations(client.get("/sitemap.xml"))
    assert "https://casepilot.example/sitemap-cpt.xml" in index
    assert "https://casepilot.example/sitemap-cpt.xml?p=2" in index
    assert "https://casepilot.example/sitemap-cpt.xml?p=3" not in index
    first = locations(client.get("/sitemap-cpt.xml"))
    second = locations(client.get("/sitemap-cpt.xml", {"p": "2"}))
    assert len(first) == 4 and len(second) == 2
    assert not set(first) & set(second)


def test_the_real_limit_is_the_protocols_50000():
    assert CodeSitemap("cpt").limit == 50_000


def test_bad_sitemap_pages_and_sections_are_404(client, facet_family):
    assert client.get("/sitemap-cpt.xml", {"p": "9"}).status_code == 404
    assert client.get("/sitemap-cpt.xml", {"p": "x"}).status_code == 404
    assert client.get("/sitemap-cpt.xml?p=%00").status_code == 404
    assert client.get("/sitemap-snomed.xml").status_code == 404


def test_the_code_sitemap_query_count_is_fixed(client, facet_family, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert client.get("/sitemap-cpt.xml").status_code == 200


def test_code_pages_carry_a_canonical_link_and_meta_description(client, facet_family):
    html = client.get("/cpt/64494/").content.decode()
    assert '<link rel="canonical" href="https://casepilot.example/cpt/64494/">' in html
    assert '<meta name="description" content="CPT code 64494:' in html


def test_sitemap_files_are_well_formed_xml_in_the_sitemaps_namespace(client, facet_family):
    from xml.etree import ElementTree

    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    index = ElementTree.fromstring(client.get("/sitemap.xml").content)
    assert index.tag == f"{namespace}sitemapindex"
    urlset = ElementTree.fromstring(client.get("/sitemap-cpt.xml").content)
    assert urlset.tag == f"{namespace}urlset"
    assert len(urlset.findall(f"{namespace}url/{namespace}loc")) == 6
    assert client.get("/sitemap-cpt.xml")["X-Robots-Tag"].startswith("noindex")
