"""sitemap.xml: every active code page, the browse pages and the listed jobs, split into files
of at most 50,000 URLs.

The sections are django.contrib.sitemaps Sitemaps (items, location, lastmod, limit, paginator).
Their files are written here as plain XML: Django's sitemap template takes seconds over 50,000
URLs, a string join a fraction of one. Locations use SITE_URL, the same absolute address as
the pages' canonical links, whatever host the sitemap was fetched through.
"""

from __future__ import annotations

import datetime
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem, x_robots_tag
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import escape
from django.views.decorators.http import require_safe

from codes.models import Code, CodeGroup, CodeSystem
from codes.normalize import SYSTEMS


class SiteUrlSitemap(Sitemap):
    limit = 50_000  # the sitemaps protocol's most URLs per file

    def get_urls(self, page=1, site=None, protocol=None) -> list[dict]:
        # For anything that asks a Sitemap for its URLs: the same SITE_URL addresses.
        parts = urlsplit(settings.SITE_URL)
        return self._urls(page, parts.scheme or "https", parts.netloc)


class CodeSitemap(SiteUrlSitemap):
    """The active codes of one system, in code order."""

    def __init__(self, slug: str) -> None:
        self.slug = slug

    @cached_property
    def stem(self) -> str:
        # Code pages live directly under their system's page (codes/urls.py): building each
        # address from that stem costs nothing per code, where reverse() would per URL.
        return reverse("codes:system_detail", kwargs={"system": SYSTEMS[self.slug].url_prefix})

    def items(self):
        return (
            Code.objects.active()
            .filter(system__slug=self.slug)
            .order_by("key")
            .values_list("code", "updated_at")
        )

    def location(self, item: tuple[str, datetime.datetime]) -> str:
        return f"{self.stem}{quote(item[0])}/"

    def lastmod(self, item: tuple[str, datetime.datetime]) -> datetime.datetime:
        return item[1]

    def get_latest_lastmod(self) -> datetime.datetime | None:
        return self.items().aggregate(latest=Max("updated_at"))["latest"]


class BrowseSitemap(SiteUrlSitemap):
    """The home page, each code system's page and every group page of its tree."""

    def items(self) -> list[str]:
        systems = CodeSystem.objects.order_by("sort", "slug")
        groups = CodeGroup.objects.select_related("system").order_by("system__sort", "sort_key")
        return [
            reverse("codes:home"),
            *(system.get_absolute_url() for system in systems),
            *(group.get_absolute_url() for group in groups),
        ]

    def location(self, item: str) -> str:
        return item


def sitemaps_all() -> dict[str, SiteUrlSitemap]:
    """Sections by name, as they appear in sitemap-<name>.xml."""
    from careers.sitemaps import JobSitemap  # careers builds on this module's SiteUrlSitemap

    return {
        "browse": BrowseSitemap(),
        **{spelling.url_prefix: CodeSitemap(slug) for slug, spelling in SYSTEMS.items()},
        "careers": JobSitemap(),
    }


@require_safe
@x_robots_tag
def index(request: HttpRequest) -> TemplateResponse:
    """sitemap.xml: one entry per sitemap file, each code system split at `limit` URLs."""
    entries = []
    for section, sitemap in sitemaps_all().items():
        location = f"{settings.SITE_URL}{reverse('sitemap_section', kwargs={'section': section})}"
        lastmod = sitemap.get_latest_lastmod()
        pages = sitemap.paginator.num_pages
        entries.append(SitemapIndexItem(location, lastmod))
        entries += [SitemapIndexItem(f"{location}?p={n}", lastmod) for n in range(2, pages + 1)]
    return TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": entries}, content_type="application/xml"
    )


@require_safe
@x_robots_tag
def section(request: HttpRequest, section: str) -> HttpResponse:
    """sitemap-<section>.xml, one file of at most `limit` URLs (?p=2 for the next)."""
    sitemap = sitemaps_all().get(section)
    if sitemap is None:
        raise Http404("No such sitemap.")
    try:
        page = sitemap.paginator.page(request.GET.get("p", 1))
    except (EmptyPage, PageNotAnInteger):
        raise Http404("No such page of this sitemap.") from None
    dated = hasattr(sitemap, "lastmod")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for item in page.object_list:
        loc = escape(f"{settings.SITE_URL}{sitemap.location(item)}")
        lastmod = f"<lastmod>{sitemap.lastmod(item):%Y-%m-%d}</lastmod>" if dated else ""
        lines.append(f"<url><loc>{loc}</loc>{lastmod}</url>")
    lines.append("</urlset>\n")
    return HttpResponse("\n".join(lines), content_type="application/xml")
