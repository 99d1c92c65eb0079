from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "SITE_URL": settings.SITE_URL,
        "SALES_EMAIL": settings.SALES_EMAIL,
        "QUOTA_GUEST_VIEWS": settings.QUOTA_GUEST_VIEWS,
        "QUOTA_FREE_VIEWS": settings.QUOTA_FREE_VIEWS,
        "QUOTA_FREE_EXTRA": max(0, settings.QUOTA_FREE_VIEWS - settings.QUOTA_GUEST_VIEWS),
    }
