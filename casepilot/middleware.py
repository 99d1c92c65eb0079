from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy and Permissions-Policy from settings on every response.

    The policy allows scripts and styles from our own origin only (no `unsafe-inline`), so
    templates carry no inline `<script>` or `style=""`; a view that needs another policy sets
    the header itself and is left alone. The permissions policy turns off browser features
    (camera, location, payment…) that no page of ours uses, for us and for anything embedded.
    (Referrer-Policy and Cross-Origin-Opener-Policy come from Django's SecurityMiddleware.)
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
