"""`/healthz`: whether this server can answer, and whether its database is reachable."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from casepilot.errors import database_unavailable


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with `"database": "up"`, or 503 with `"down"`, for load balancers and monitors.

    It touches no session and no cache, so probing it leaves nothing behind.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # A connection that failed mid-request is dropped now, not at the next probe.
        connection.close_if_unusable_or_obsolete()
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})
