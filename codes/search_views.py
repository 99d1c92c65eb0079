"""Case2Code pages: the search page, its autocomplete feed, and robots.txt.

None of these is metered (they are not in QUOTA_METERED_URL_NAMES) and none shows an official
descriptor: search and browse stay free.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from accounts import mycodes
from codes import search as case2code
from codes.models import CodeSystem
from codes.search import QueryRejected

SHOWN_BACK = 80  # characters of a rejected query shown back in the error


def _systems() -> list[CodeSystem]:
    return list(CodeSystem.objects.order_by("sort", "slug"))


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("q", "")
    try:
        query = case2code.query_parse(raw=raw)
        filters = case2code.filters_parse(
            system=request.GET.get("system", ""),
            status=request.GET.get("status", ""),
            group=request.GET.get("group", ""),
        )
        page = case2code.page_parse(raw=request.GET.get("page"))
    except QueryRejected as rejected:
        shown = raw.replace("\x00", "")[:SHOWN_BACK]
        context = {"error": str(rejected), "shown": shown, "systems": _systems()}
        return render(request, "codes/search.html", context, status=400)
    outcome = case2code.search_run(query=query, filters=filters, page=page)
    if outcome.redirect_to:
        return HttpResponseRedirect(outcome.redirect_to)
    params = {"q": query.text, **filters.as_params()} if query.text else filters.as_params()
    context = {
        "query": query,
        "filters": filters,
        "outcome": outcome,
        "systems": _systems(),
        "page_query": urlencode(params),
        "all_statuses_query": urlencode({**params, "status": "all"}),
        # The account's stars among these results: one query, none for a guest.
        "starred": mycodes.starred_ids(
            user=request.user, code_ids=[hit.pk for hit in outcome.hits]
        ),
    }
    return render(request, "codes/search.html", context, status=404 if outcome.past_end else 200)


@require_safe
@cache_control(max_age=300)
def suggest(request: HttpRequest) -> JsonResponse:
    """Codes and titles for the header box, as the person types."""
    raw = request.GET.get("q", "")
    try:
        found = case2code.suggestions_for(raw=raw)
    except QueryRejected as rejected:
        return JsonResponse({"error": str(rejected), "results": []}, status=400)
    return JsonResponse(
        {
            "query": raw,
            "results": [item.as_json() for item in found],
            "search_url": f"{reverse('codes:search')}?{urlencode({'q': raw})}",
        }
    )


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        # Result pages are endless combinations of the same codes; code pages are what to index.
        f"Disallow: {reverse('codes:search')}",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        "",
        f"Sitemap: {settings.SITE_URL}{reverse('sitemap_index')}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
