from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from accounts.quota import MeteredRequest


class QuotaMiddleware:
    """Put a `MeteredRequest` on `request.quota` for metered pages, `None` everywhere else.

    Metered pages are named by URL name (`QUOTA_METERED_URL_NAMES`), never by path. The
    middleware decides nothing itself: the view asks `request.quota.admit()` once it has found
    the code, and every rule it applies lives in `accounts.quota`. Metered responses must not
    be stored by any cache, so they leave here marked `private, no-store`.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.quota = None
        response = self.get_response(request)
        if request.quota is not None and request.quota.admission is not None:
            response["Cache-Control"] = "private, no-store"
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        match = request.resolver_match
        if match is not None and match.view_name in settings.QUOTA_METERED_URL_NAMES:
            request.quota = MeteredRequest(request)
        return None
