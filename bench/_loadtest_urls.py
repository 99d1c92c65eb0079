"""The site's URLs, and `/__floor/`: the least a Django view can do, through the same
middleware and the same gunicorn, so that page rates can be given as a share of it."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from casepilot.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("__floor/", floor), *urlpatterns]
