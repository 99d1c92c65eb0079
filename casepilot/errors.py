"""Error pages rendered in the site's own layout."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context and no {% static %}: the database, a context processor or the
    # static manifest may be what failed. The unhashed stylesheet is always collected too.
    context = {"stylesheet": f"{settings.STATIC_URL}css/site.css"}
    return HttpResponseServerError(loader.get_template("errors/500.html").render(context))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "errors/403.html", {"csrf_failed": True}, status=403)
