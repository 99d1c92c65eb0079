from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe

from accounts import mycodes
from codes import page_cache
from codes import search as case2code
from codes.knowledge import date_of_service_parse, knowledge_build
from codes.models import Code, CodeGroup, CodeSystem, Locality, Modifier
from codes.normalize import BY_URL_PREFIX
from codes.pages import (
    CodePage,
    code_page_load,
    fragment_render,
    near_matches,
    spelling_for_prefix,
)
from codes.payment import locality_find, locality_search

MODIFIER_SHAPE = re.compile(r"[A-Za-z0-9]{2}")


def _system_or_404(prefix: str) -> CodeSystem:
    spelling = BY_URL_PREFIX.get(prefix)
    if spelling is None:
        raise Http404("No such code system.")
    return get_object_or_404(CodeSystem, slug=spelling.slug)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    lists_html = page_cache.part_get_or_build(
        "home", _home_lists_render, version=page_cache.data_version()
    )
    return render(request, "codes/home.html", {"lists_html": lists_html})


def _home_lists_render() -> str:
    # Counting every active code of every system is the home page's whole cost: done (and
    # the lists rendered) once per data version, not per visit.
    systems = CodeSystem.objects.annotate(
        active_codes=Count("codes", filter=Q(codes__status=Code.Status.ACTIVE))
    ).order_by("sort", "slug")  # an aggregate query drops Meta.ordering
    featured = (
        Code.objects.select_related("system")
        .filter(system__slug="cpt", key__in=["64494", "99213", "99214", "20610", "72148"])
        .order_by("key")
    )
    return render_to_string(
        "codes/includes/home_lists.html", {"systems": list(systems), "featured": list(featured)}
    )


@require_safe
def system_detail(request: HttpRequest, system: str) -> HttpResponse:
    code_system = _system_or_404(system)
    browse = case2code.system_browse(system=code_system)
    return render(request, "codes/system_detail.html", {"system": code_system, "browse": browse})


@require_safe
def group_detail(request: HttpRequest, system: str, slug: str) -> HttpResponse:
    code_system = _system_or_404(system)
    group = get_object_or_404(
        CodeGroup.objects.select_related("parent__parent__parent__parent"),
        system=code_system,
        slug=slug,
    )
    group.system = code_system
    try:
        page = case2code.page_parse(raw=request.GET.get("page"))
    except case2code.QueryRejected:
        raise Http404("No such page of this group.") from None
    browse = case2code.group_browse(group=group, page=page)
    if browse.past_end:
        raise Http404("No such page of this group.")
    context = {
        "system": code_system,
        "group": group,
        "crumbs": group.lineage()[:-1],
        "browse": browse,
    }
    return render(request, "codes/group_detail.html", context)


def _code_not_found(
    request: HttpRequest, *, system_slug: str, raw: str, malformed: bool
) -> HttpResponse:
    system = CodeSystem.objects.filter(slug=system_slug).first()
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    context = {
        "system": system,
        "raw": shown,
        "malformed": malformed,
        "matches": near_matches(system=system, raw=raw) if not malformed else [],
    }
    return render(request, "codes/code_not_found.html", context, status=404)


@require_safe
def code_detail(request: HttpRequest, system: str, code: str) -> HttpResponse:
    spelling = BY_URL_PREFIX[system]
    canonical = spelling.canonical(code)
    if canonical is None:
        return _code_not_found(request, system_slug=spelling.slug, raw=code, malformed=True)
    if canonical != code:
        return _redirect_to_code(request, spelling.url_prefix, canonical)
    version = page_cache.data_version()
    page = page_cache.part_get_or_build(
        "code",
        lambda: code_page_load(system_slug=spelling.slug, canonical=canonical),
        version=version,
        system=spelling.slug,
        code=canonical,
    )
    if page is None:
        return _code_not_found(request, system_slug=spelling.slug, raw=canonical, malformed=False)
    code_obj = page.code
    # The metering decision is made here on every request, never cached.
    admission = request.quota.admit(code_id=code_obj.pk) if request.quota else None
    if admission is not None and admission.reason == "not_consumed" and request.method == "GET":
        # A prefetch may not spend a view, and a gate it carried would be shown on the real
        # navigation: decline it (browsers discard non-2xx prefetches and fetch again).
        return HttpResponse(
            "Not prefetched: opening this code page uses a view.",
            status=425,
            content_type="text/plain",
        )
    show_content = admission is None or admission.granted
    show_sections = show_content and request.user.is_authenticated
    editor = request.user.is_staff
    context = {
        "code": code_obj,
        "system": code_obj.system,
        "data_version": version,  # the question box keeps its form by it
        "code_url": page.url,
        "crumbs_html": page.crumbs_html,
        "head_html": page.head_html,
        "toc_html": page.toc_html,
        "aside_html": page.aside_html,
        "admission": admission,
        "usage": admission.usage if admission else None,
        "show_content": show_content,
        "show_sections": show_sections,
        "structured_data": page.structured_data,
        # This viewer's star and note, one query for an account (none for a guest).
        "my_code": mycodes.my_code_for(user=request.user, code_id=code_obj.pk),
    }
    # Parts with metered text are fetched only for a viewer who may read them.
    if show_content:
        context["descriptions_html"] = page_cache.part_get_or_build(
            "descriptions",
            lambda: fragment_render(
                "codes/includes/descriptions.html", code=code_obj, editor=editor
            ),
            version=version,
            code=code_obj.pk,
            editor=editor,
        )
        context["sections_html"] = _sections_html(
            request, page=page, version=version, editor=editor, unlocked=show_sections
        )
    return render(request, "codes/code_detail.html", context)


def _sections_html(
    request: HttpRequest, *, page: CodePage, version: str, editor: bool, unlocked: bool
) -> str:
    """The sections below the descriptions: locked cards, or (for an account) all seven as of
    the date of service. Every input they depend on is a keyword of the cache key."""
    code = page.code
    if not unlocked:
        return page_cache.part_get_or_build(
            "locked",
            lambda: fragment_render(
                "codes/includes/sections.html", code=code, editor=False, show_sections=False
            ),
            version=version,
            code=code.pk,
        )
    today = timezone.localdate()
    dos, dos_error = date_of_service_parse(raw=request.GET.get("dos"), today=today)
    locality, locality_error = _payment_locality(request)
    html = page_cache.part_get_or_build(
        "sections",
        lambda: fragment_render(
            "codes/includes/sections.html",
            code=code,
            editor=editor,
            show_sections=True,
            related=page.related,
            knowledge=knowledge_build(code=code, dos=dos, locality=locality),
            dos_error=dos_error,
        ),
        version=version,
        code=code.pk,
        dos=dos,
        today=today,
        dos_error=dos_error,
        editor=editor,
        locality=locality.key if locality else "",
    )
    picker = _locality_picker(request, dos=dos, locality=locality, error=locality_error)
    # Both halves are rendered templates (escaped as they were rendered), so the whole is safe.
    return mark_safe(html.replace(LOCALITY_PICKER_SLOT, picker, 1))


# Where the payment section's locality picker goes in the cached sections: the picker holds a
# CSRF token and what this viewer searched for, so it is rendered for each request.
LOCALITY_PICKER_SLOT = "<!-- locality picker -->"


def _locality_picker(request: HttpRequest, *, dos, locality: Locality | None, error: str) -> str:
    query = " ".join(request.GET.get("locality_q", "").replace("\x00", "").split())[:100]
    context = {
        "dos": dos,
        "dos_asked": bool(request.GET.get("dos")),
        "locality": locality,
        "locality_error": error,
        "locality_query": query,
        "locality_matches": locality_search(text=query) if query else [],
        # Where choosing a locality returns to: this page on this date of service.
        "payment_next": request.path
        + (f"?dos={dos.isoformat()}" if request.GET.get("dos") else ""),
    }
    return render_to_string("codes/sections/locality_picker.html", context, request=request)


@require_safe
def code_alias(request: HttpRequest, prefix: str, code: str) -> HttpResponse:
    """Other spellings of a code page URL (`/CPT/64494`, `/icd10cm/m5450`): one permanent
    redirect to the canonical page, which alone is metered."""
    spelling = spelling_for_prefix(prefix)
    if spelling is None:
        raise Http404("No such page.")
    canonical = spelling.canonical(code)
    if canonical is None:
        return _code_not_found(request, system_slug=spelling.slug, raw=code, malformed=True)
    return _redirect_to_code(request, spelling.url_prefix, canonical)


def _redirect_to_code(request: HttpRequest, prefix: str, code: str) -> HttpResponse:
    """A permanent redirect to a code's canonical URL, keeping the query (e.g. `?dos=`)."""
    url = reverse("codes:code_detail", kwargs={"system": prefix, "code": code})
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)


@require_safe
def modifier_detail(request: HttpRequest, modifier: str) -> HttpResponse:
    if not MODIFIER_SHAPE.fullmatch(modifier):
        raise Http404("A modifier is two letters or digits, such as 59 or RT.")
    if modifier != modifier.upper():
        return HttpResponsePermanentRedirect(
            reverse("codes:modifier_detail", kwargs={"modifier": modifier.upper()})
        )
    found = get_object_or_404(Modifier, code=modifier)
    context = {
        "modifier": found,
        "code_links": found.code_links.select_related("code__system").order_by("code__key"),
    }
    return render(request, "codes/modifier_detail.html", context)


LOCALITY_SESSION_KEY = "payment_locality"
NATIONAL = "national"


def _payment_locality(request: HttpRequest) -> tuple[Locality | None, str]:
    """The locality the payment section prices in, and a message when `?locality=` named none:
    `?locality=` for this view, else the account's saved choice, else the session's; national
    when there is none. A malformed or unknown key is ignored, never an error page."""
    raw = request.GET.get("locality")
    message = ""
    if raw == NATIONAL:
        return None, ""
    if raw:
        found = locality_find(key=raw)
        if found is not None:
            return found, ""
        shown = raw.replace("\x00", "")[:20]
        message = f"“{shown}” is not a Medicare locality on file; the picker below finds one."
    user = request.user
    if user.is_authenticated:
        pk = user.payment_locality_id
        return (locality_find(pk=pk) if pk else None), message
    key = request.session.get(LOCALITY_SESSION_KEY)
    return (locality_find(key=key) if key and key != NATIONAL else None), message


@require_POST
def payment_locality(request: HttpRequest) -> HttpResponse:
    """Remember the locality code pages price in: on the account, and in the session for a
    guest. Then back to the page the picker was on."""
    raw = request.POST.get("locality", "")
    locality = None
    if raw != NATIONAL:
        locality = locality_find(key=raw)
        if locality is None:
            return HttpResponseBadRequest(
                "That is not a Medicare locality on file. Go back and pick one from the list.",
                content_type="text/plain; charset=utf-8",
            )
    request.session[LOCALITY_SESSION_KEY] = locality.key if locality else NATIONAL
    if request.user.is_authenticated:
        get_user_model().objects.filter(pk=request.user.pk).update(payment_locality=locality)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("codes:home")
    return redirect(f"{target}#payment")
