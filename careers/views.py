"""CareerCenter pages. Job pages are free: no URL here is metered (QUOTA_METERED_URL_NAMES)."""

from __future__ import annotations

from functools import wraps
from urllib.parse import parse_qsl

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from careers import alerts, postings
from careers.forms import JobForm, RejectForm
from careers.listing import SORTS, JobFilters, board_page
from careers.models import Job, JobAlert, SavedJob
from careers.structured import job_posting
from casepilot.structured import json_ld

MAX_PAGE = 10_000


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Only staff review jobs.")
        return view(request, *args, **kwargs)

    return wrapped


def _page_number(raw: str) -> int:
    # Anything but a plain page number reads as the first page; a page past the end is a 404.
    return int(raw) if raw.isdigit() and 0 < len(raw) <= 5 and int(raw) > 0 else 1


@require_safe
def job_list(request: HttpRequest) -> HttpResponse:
    filters = JobFilters.from_query(request.GET)
    per_page = settings.CAREERS_JOBS_PER_PAGE
    page = _page_number(request.GET.get("page", ""))
    # One address per result: the filter form sends every field, empty or not; drop the
    # empty and unknown ones so the address is short enough to share.
    canonical = filters.query_string(page=str(page) if page > 1 else None)
    if request.META.get("QUERY_STRING", "") != canonical:
        return redirect(f"{request.path}?{canonical}" if canonical else request.path)
    board = board_page(filters, page=min(page, MAX_PAGE), per_page=per_page)
    pages = max(1, -(-board.total // per_page))
    if page > min(pages, MAX_PAGE):
        raise Http404("That page is past the end of the results.")
    jobs = board.cards
    saved_ids = set()
    if request.user.is_authenticated and jobs:
        saved_ids = set(
            SavedJob.objects.filter(user=request.user, job_id__in=board.job_ids).values_list(
                "job_id", flat=True
            )
        )
    context = {
        "filters": filters,
        "facets": board.facets,
        "total": board.total,
        "jobs": jobs,
        "saved_ids": saved_ids,
        "page": page,
        "pages": pages,
        "prev_query": filters.query_string(page=str(page - 1)) if page > 1 else None,
        "next_query": filters.query_string(page=str(page + 1)) if page < pages else None,
        "sorts": SORTS,
        "alert_query": filters.query_string(sort=None, page=None),
    }
    return render(request, "careers/job_list.html", context)


def _job_for_viewer(request: HttpRequest, job_id: int) -> Job:
    job = get_object_or_404(Job.objects.select_related("posted_by"), pk=job_id)
    # Never-listed jobs (drafts, pending, rejected before publication) are for the poster
    # and staff only; once listed, a job's page stays up and says when it is closed.
    if not job.was_published and not postings.user_may_edit(request.user, job):
        raise Http404("No such job.")
    return job


@require_safe
def job_detail(request: HttpRequest, job_id: int, slug: str) -> HttpResponse:
    job = _job_for_viewer(request, job_id)
    if slug != job.slug:
        return HttpResponsePermanentRedirect(job.get_absolute_url())
    user = request.user
    saved = user.is_authenticated and SavedJob.objects.filter(user=user, job=job).exists()
    indexable = job.is_live and not job.is_example
    context = {
        "job": job,
        "saved": saved,
        "indexable": indexable,
        "structured_data": json_ld(job_posting(job)) if indexable else "",
        "may_edit": postings.user_may_edit(user, job),
        "reject_form": RejectForm() if user.is_staff else None,
    }
    return render(request, "careers/job_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def job_post(request: HttpRequest) -> HttpResponse:
    if not postings.user_may_post(request.user):
        return render(request, "careers/post_verify.html", status=403)
    form = JobForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        job = postings.job_save_by_poster(
            job=form.instance, user=request.user, submit="submit" in request.POST
        )
        messages.success(request, _saved_message(job))
        return redirect("careers:my_jobs")
    return render(
        request, "careers/job_form.html", {"form": form, "job": None}, status=_status(form)
    )


@login_required
@require_http_methods(["GET", "POST"])
def job_edit(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=job_id)
    if not postings.user_may_edit(request.user, job):
        raise Http404("No such job.")
    form = JobForm(request.POST or None, instance=job)
    if request.method == "POST" and form.is_valid():
        job = postings.job_save_by_poster(
            job=form.instance, user=request.user, submit="submit" in request.POST
        )
        messages.success(request, _saved_message(job))
        if request.user.is_staff and job.posted_by_id != request.user.pk:
            return redirect(job.get_absolute_url())
        return redirect("careers:my_jobs")
    return render(
        request, "careers/job_form.html", {"form": form, "job": job}, status=_status(form)
    )


def _status(form: JobForm) -> int:
    return 400 if form.is_bound and form.errors else 200


def _saved_message(job: Job) -> str:
    if job.status == Job.Status.PENDING:
        return f"“{job.title}” is waiting for review. It is listed once staff approve it."
    if job.status == Job.Status.DRAFT:
        return f"“{job.title}” is saved as a draft."
    return f"“{job.title}” is saved."


@login_required
@require_safe
def my_jobs(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.filter(posted_by=request.user).order_by("-created_at")
    return render(request, "careers/my_jobs.html", {"jobs": jobs})


@login_required
@require_POST
def job_renew(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=job_id, posted_by=request.user)
    try:
        job = postings.job_renew(job=job)
    except postings.PostingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"“{job.title}” is listed through {job.valid_through:%B %-d, %Y}."
        )
    return redirect("careers:my_jobs")


@staff_required
@require_safe
def review_queue(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.pending().select_related("posted_by").order_by("created_at")
    return render(request, "careers/review_queue.html", {"jobs": jobs})


@staff_required
@require_POST
def job_review(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=job_id)
    action = request.POST.get("action")
    try:
        if action == "approve":
            postings.job_approve(job=job, reviewer=request.user)
            messages.success(request, f"“{job.title}” is published.")
        elif action == "reject":
            form = RejectForm(request.POST)
            if not form.is_valid():
                context = {"job": job, "reject_form": form, "may_edit": True, "saved": False}
                return render(request, "careers/job_detail.html", context, status=400)
            postings.job_reject(job=job, reviewer=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, f"“{job.title}” is rejected; the poster has been emailed.")
        elif action == "expire":
            postings.job_expire(job=job, reviewer=request.user)
            messages.success(request, f"“{job.title}” is expired and no longer listed.")
        else:
            return HttpResponse("Unknown review action.", status=400)
    except postings.PostingError as error:
        messages.error(request, str(error))
        return redirect(job.get_absolute_url())
    return redirect("careers:review_queue")


def _next_or(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@login_required
@require_POST
def job_save(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=job_id)
    if request.POST.get("action") == "remove":
        SavedJob.objects.filter(user=request.user, job=job).delete()
        messages.success(request, f"“{job.title}” is no longer saved.")
    elif job.is_live:
        # get_or_create recovers from a concurrent save of the same job (unique constraint).
        SavedJob.objects.get_or_create(user=request.user, job=job)
        messages.success(request, f"“{job.title}” is saved.")
    else:
        raise Http404("Only a listed job can be saved.")
    return redirect(_next_or(request, job.get_absolute_url()))


@login_required
@require_safe
def saved_jobs(request: HttpRequest) -> HttpResponse:
    saves = SavedJob.objects.filter(user=request.user).select_related("job")
    return render(request, "careers/saved_jobs.html", {"saves": saves})


@login_required
@require_http_methods(["GET", "POST"])
def job_alerts(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            pk = request.POST.get("alert", "")
            if not pk.isdigit() or len(pk) > 18:
                raise Http404("No such alert.")
            alert = get_object_or_404(JobAlert, pk=pk, user=request.user)
            alerts.alert_unsubscribe(alert=alert)
            messages.success(request, f"The alert “{alert.description}” is off.")
        else:
            filters = JobFilters.from_query(_query_dict(request.POST.get("query", "")))
            try:
                alert = alerts.alert_create(user=request.user, filters=filters)
            except alerts.AlertError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    f"You will get a daily email of new jobs for “{alert.description}”.",
                )
        return redirect("careers:job_alerts")
    active = JobAlert.objects.filter(user=request.user, is_active=True)
    return render(request, "careers/job_alerts.html", {"alerts": active})


def _query_dict(query: str) -> dict[str, str]:
    return dict(parse_qsl(query.replace("\x00", "")[:2000]))


# The link in an alert mail works without logging in: the signed token is the permission.
# Mail clients' one-click unsubscribe (RFC 8058) POSTs to it without a CSRF token.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def alert_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    alert = alerts.alert_from_token(token)
    if alert is None:
        return render(request, "careers/unsubscribe.html", {"invalid": True}, status=404)
    done = request.method == "POST"
    if done:
        alerts.alert_unsubscribe(alert=alert)
    return render(request, "careers/unsubscribe.html", {"alert": alert, "done": done})
