"""Error pages rendered in the site's own layout."""

from __future__ import annotations

import sys

import psycopg
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


# What a lost or refused database connection raises: Django's wrappers, and psycopg's own for
# code that reached the driver directly.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, psycopg.OperationalError)

RETRY_AFTER_SECONDS = 5


def database_unavailable(exception: BaseException | None) -> bool:
    """Whether `exception` (or what it was raised from) means the database cannot be reached."""
    while exception is not None:
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return True
        exception = exception.__cause__ or exception.__context__
    return False


def service_unavailable() -> HttpResponse:
    """The friendly 503 shown while the database is down: built without touching it."""
    context = {"stylesheet": f"{settings.STATIC_URL}css/site.css"}
    response = HttpResponse(loader.get_template("errors/503.html").render(context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block, so the exception is at hand: a database
    # that went away is an outage to wait out (503, retry), not a bug in our code (500).
    if database_unavailable(sys.exception()):
        return service_unavailable()
    # No request context and no {% static %}: the database, a context processor or the
    # static manifest may be what failed. The unhashed stylesheet is always collected too.
    context = {"stylesheet": f"{settings.STATIC_URL}css/site.css"}
    return HttpResponseServerError(loader.get_template("errors/500.html").render(context))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "errors/403.html", {"csrf_failed": True}, status=403)
