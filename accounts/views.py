from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import changefeed, digest, mycodes, quota
from accounts.forms import CodesCsvForm, NoteForm, TagsForm
from accounts.models import Plan
from codes.models import Code

SEARCH_MAX_CHARS = 100


@require_safe
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    viewer = quota.viewer_for(user=request.user, session=request.session, meta=request.META)
    usage = quota.usage_for(viewer=viewer)
    unlocks = quota.unlocked_codes(viewer=viewer)
    return render(request, "accounts/profile.html", {"usage": usage, "unlocks": unlocks})


@require_safe
def plans(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/plans.html", {"plans": Plan.objects.all()})


def _clean_text(raw: str, limit: int) -> str:
    return " ".join(raw.replace("\x00", "").split())[:limit]


def _my_codes_page(
    request: HttpRequest, *, csv_form: CodesCsvForm | None = None, report=None, status: int = 200
) -> HttpResponse:
    viewer = quota.viewer_for(user=request.user, session=request.session, meta=request.META)
    context: dict[str, object] = {
        "usage": quota.usage_for(viewer=viewer),
        # Recently viewed: the unlocks metering already records, nothing tracked anew.
        "recent": quota.unlocked_codes(viewer=viewer) if viewer.subject else [],
    }
    if request.user.is_authenticated:
        tag = _clean_text(request.GET.get("tag", ""), mycodes.TAG_MAX_CHARS)
        search = _clean_text(request.GET.get("q", ""), SEARCH_MAX_CHARS)
        context |= {
            "tag": tag,
            "search": search,
            "tags": mycodes.tags_for(user=request.user),
            "favourites": list(mycodes.favourites_for(user=request.user, tag=tag)),
            "notes": mycodes.notes_search(user=request.user, text=search)[:50],
            "csv_form": csv_form or CodesCsvForm(),
            "report": report,
        }
    return render(request, "accounts/my_codes.html", context, status=status)


@require_safe
def my_codes(request: HttpRequest) -> HttpResponse:
    """Favourites, notes and recently viewed codes. A guest sees what their session opened."""
    return _my_codes_page(request)


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_POST
@login_required
def my_code_star(request: HttpRequest, code_id: int) -> HttpResponse:
    code = get_object_or_404(Code, pk=code_id)
    if request.POST.get("starred") == "1":
        mycodes.favourite_add(user=request.user, code=code)
    else:
        mycodes.favourite_remove(user=request.user, code_id=code.pk)
    return redirect(_back(request, reverse("my_codes")))


@require_POST
@login_required
def my_code_move(request: HttpRequest, code_id: int) -> HttpResponse:
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if step is not None:
        mycodes.favourite_move(user=request.user, code_id=code_id, step=step)
    return redirect(_back(request, reverse("my_codes")) + f"#fav-{code_id}")


@login_required
def my_code_edit(request: HttpRequest, code_id: int) -> HttpResponse:
    """The note and tags of one code. The code page's note form posts here too, so a note
    that cannot be kept comes back here with the reason, and the text the coder typed."""
    if request.method not in {"GET", "HEAD", "POST"}:
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    code = get_object_or_404(Code.objects.select_related("system"), pk=code_id)
    mine = mycodes.my_code_for(user=request.user, code_id=code.pk)
    note_form = NoteForm(initial={"note": mine.note if mine else ""})
    tags_form = TagsForm(initial={"tags": ", ".join(mine.tags) if mine else ""})
    status = 200
    if request.method == "POST":
        part = request.POST.get("part")
        if part == "note":
            note_form = NoteForm(request.POST)
            if note_form.is_valid():
                mycodes.note_save(user=request.user, code=code, text=note_form.cleaned_data["note"])
                messages.success(request, f"Your note on {code.code} is saved.")
                return redirect(_back(request, code.get_absolute_url()))
        elif part == "tags":
            tags_form = TagsForm(request.POST)
            if not (mine and mine.starred):
                tags_form.add_error(None, "Tags belong to favourites: star the code first.")
            elif tags_form.is_valid():
                mycodes.tags_set(
                    user=request.user, code_id=code.pk, tags=tags_form.cleaned_data["tags"]
                )
                return redirect(_back(request, reverse("my_codes")) + f"#fav-{code.pk}")
        status = 400
    context = {
        "code": code,
        "mine": mine,
        "note_form": note_form,
        "tags_form": tags_form,
        "next": _back(request, ""),
    }
    return render(request, "accounts/my_code_edit.html", context, status=status)


@require_safe
@login_required
def my_codes_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        mycodes.favourites_csv(user=request.user), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="casepilot-favourites.csv"'
    return response


@require_POST
@login_required
def my_codes_import(request: HttpRequest) -> HttpResponse:
    form = CodesCsvForm(request.POST, request.FILES)
    if not form.is_valid():
        return _my_codes_page(request, csv_form=form, status=400)
    report = mycodes.favourites_import(user=request.user, rows=form.cleaned_data["file"])
    return _my_codes_page(request, report=report)


@require_safe
@login_required
def my_changes(request: HttpRequest) -> HttpResponse:
    """What new editions changed for the account's favourites, newest import first."""
    feed = changefeed.feed_page(user=request.user, number=request.GET.get("page"))
    return render(request, "accounts/my_changes.html", {"feed": feed})


@require_POST
@login_required
def my_changes_digest(request: HttpRequest) -> HttpResponse:
    on = request.POST.get("digest") == "1"
    digest.digest_subscribe(user=request.user, on=on)
    if on:
        messages.success(
            request, "You will get a weekly email when new editions change your codes."
        )
    else:
        messages.success(request, "No more weekly emails of changes to your codes.")
    return redirect("my_changes")


# The link in a digest works without logging in: the signed token is the permission. Mail
# clients' one-click unsubscribe (RFC 8058) POSTs to it without a CSRF token.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def change_digest_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    user = digest.user_from_token(token)
    if user is None:
        return render(request, "accounts/digest_unsubscribe.html", {"invalid": True}, status=404)
    done = request.method == "POST"
    if done:
        digest.digest_subscribe(user=user, on=False)
        user.change_digest = False
    return render(request, "accounts/digest_unsubscribe.html", {"subscriber": user, "done": done})
