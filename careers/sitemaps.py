"""The sitemap section of listed jobs (codes/sitemaps.py writes the files)."""

from __future__ import annotations

import datetime

from django.db.models import Max
from django.urls import reverse
from django.utils.functional import cached_property

from careers.models import Job
from codes.sitemaps import SiteUrlSitemap


class JobSitemap(SiteUrlSitemap):
    """Published jobs still open; expired, removed and example jobs drop out."""

    def items(self):
        return (
            Job.objects.live()
            .filter(is_example=False)
            .order_by("-posted_at", "-id")
            .values_list("pk", "slug", "updated_at")
        )

    @cached_property
    def stem(self) -> str:
        # Job pages live directly under the list page (careers/urls.py).
        return reverse("careers:job_list")

    def location(self, item: tuple[int, str, datetime.datetime]) -> str:
        return f"{self.stem}{item[0]}-{item[1]}/"

    def lastmod(self, item: tuple[int, str, datetime.datetime]) -> datetime.datetime:
        return item[2]

    def get_latest_lastmod(self) -> datetime.datetime | None:
        return self.items().aggregate(latest=Max("updated_at"))["latest"]
