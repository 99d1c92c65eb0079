"""CaseConsultant's pages: asking, the asker's threads, and the consultants' queue."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import quota
from consult import rules
from consult.forms import AnswerForm, AskForm, FollowUpForm, RateForm
from consult.models import Answer, Consultation, is_consultant
from consult.phi import ADVICE, phi_find, phi_highlight

log = logging.getLogger(__name__)


def _prefill(request: HttpRequest) -> dict:
    """What CasePilot's "Ask a certified coder" link carries: the question and its codes."""
    question = request.GET.get("question", "")[:5000].replace("\x00", "")
    return {
        "token": uuid.uuid4(),
        "question": question,
        "subject": request.GET.get("subject", question)[:150].replace("\x00", ""),
        "codes": request.GET.get("codes", "")[:300].replace("\x00", ""),
    }


def _phi_check(form: AskForm) -> list[dict]:
    """Each field with PHI in it, highlighted. Nothing here is logged or stored."""
    flagged = []
    for name in ("subject", "question", "specialty", "codes"):
        text = form.cleaned_data.get(name) or ""
        findings = phi_find(text)
        if findings:
            flagged.append(
                {
                    "label": form.fields[name].label,
                    "html": phi_highlight(text, findings),
                    "kinds": sorted({f.label for f in findings}),
                }
            )
    return flagged


def _ask_context(request: HttpRequest, form: AskForm, **extra) -> dict:
    return {"form": form, "usage": quota.consultation_usage(user=request.user), **extra}


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = AskForm(initial=_prefill(request))
        return render(request, "consult/ask.html", _ask_context(request, form))
    form = AskForm(request.POST)
    if not form.is_valid():
        return render(request, "consult/ask.html", _ask_context(request, form), status=400)
    flagged = _phi_check(form)
    if flagged:
        # The refused text goes back to the person who typed it and nowhere else.
        log.info("consultation refused: PHI found (%d fields)", len(flagged))
        context = _ask_context(request, form, flagged=flagged, advice=ADVICE)
        return render(request, "consult/ask.html", context, status=422)
    data = form.cleaned_data
    codes = rules.codes_check(raw=data["codes"])
    fields = {
        key: data[key] for key in ("subject", "question", "date_of_service", "payer", "specialty")
    } | {"place_of_service": data["place_of_service"]}
    asked = rules.consultation_ask(
        user=request.user, token=data["token"], fields=fields, codes=codes
    )
    if asked.consultation is None:
        context = _ask_context(request, form, refused=asked.spend)
        return render(request, "consult/ask.html", context, status=429)
    if asked.created:
        messages.success(request, "Your question was sent. A certified coder will answer it.")
    return HttpResponseRedirect(asked.consultation.get_absolute_url())


def _threads(request: HttpRequest):
    return Consultation.objects.visible_to(request.user)


@login_required
@require_safe
@never_cache
def thread_list(request: HttpRequest) -> HttpResponse:
    mine = (
        Consultation.objects.filter(user=request.user)
        .annotate(answer_count=Count("answers"))
        .order_by("-created_at")
    )
    return render(
        request,
        "consult/thread_list.html",
        {
            "consultations": mine,
            "usage": quota.consultation_usage(user=request.user),
            "is_consultant": is_consultant(request.user),
        },
    )


def _thread(request: HttpRequest, public_id) -> Consultation:
    queryset = (
        _threads(request)
        .select_related("user", "claimed_by")
        .prefetch_related(
            "codes__system",
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("author", "followup").prefetch_related(
                    "codes__system"
                ),
            ),
        )
    )
    return get_object_or_404(queryset, public_id=public_id)


@login_required
@require_safe
@never_cache
def thread(request: HttpRequest, public_id) -> HttpResponse:
    consultation = _thread(request, public_id)
    asker = consultation.user_id == request.user.pk
    consultant = is_consultant(request.user)
    context = {
        "consultation": consultation,
        "answers": list(consultation.answers.all()),
        "is_asker": asker,
        "is_consultant": consultant,
        "followup_form": FollowUpForm(),
        "rate_form": RateForm(),
        "answer_form": AnswerForm(),
        "may_answer": consultant
        and consultation.claimed_by_id == request.user.pk
        and consultation.status == Consultation.Status.CLAIMED,
    }
    return render(request, "consult/thread.html", context)


def _asker_answer(request: HttpRequest, public_id, answer_id: int) -> Answer:
    consultation = get_object_or_404(
        Consultation.objects.filter(user=request.user), public_id=public_id
    )
    return get_object_or_404(
        consultation.answers.select_related("consultation__user"), pk=answer_id
    )


@login_required
@require_POST
def followup(request: HttpRequest, public_id, answer_id: int) -> HttpResponse:
    answer = _asker_answer(request, public_id, answer_id)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Type a follow-up of up to 5,000 characters.")
        return redirect(answer.consultation)
    findings = phi_find(form.cleaned_data["text"])
    if findings:
        context = {
            "consultation": answer.consultation,
            "flagged": [
                {
                    "label": "Your follow-up",
                    "html": phi_highlight(form.cleaned_data["text"], findings),
                    "kinds": sorted({f.label for f in findings}),
                }
            ],
            "advice": ADVICE,
        }
        return render(request, "consult/refused.html", context, status=422)
    try:
        rules.followup_post(answer=answer, text=form.cleaned_data["text"])
    except rules.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Your follow-up was sent to the consultant.")
    return redirect(answer.consultation)


@login_required
@require_POST
def rate(request: HttpRequest, public_id, answer_id: int) -> HttpResponse:
    answer = _asker_answer(request, public_id, answer_id)
    form = RateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a rating from 1 to 5.")
    else:
        rules.answer_rate(answer=answer, rating=form.cleaned_data["rating"])
        messages.success(request, "Thank you for rating the answer.")
    return redirect(answer.consultation)


@login_required
@require_POST
def close(request: HttpRequest, public_id) -> HttpResponse:
    consultation = get_object_or_404(
        Consultation.objects.filter(user=request.user), public_id=public_id
    )
    rules.consultation_close(consultation=consultation)
    messages.success(request, "The question is closed.")
    return redirect(consultation)


# --- Consultants ---------------------------------------------------------------------------------


def _consultant(request: HttpRequest) -> None:
    # Anyone else is told nothing exists here.
    if not is_consultant(request.user):
        raise Http404


@login_required
@require_safe
@never_cache
def queue(request: HttpRequest) -> HttpResponse:
    _consultant(request)
    waiting = (
        Consultation.objects.waiting().select_related("user", "claimed_by").order_by("due_at", "id")
    )
    context = {
        "waiting": list(waiting),
        "now": timezone.now(),
        "turnaround_paid": settings.CONSULT_TURNAROUND_PAID,
        "turnaround_free": settings.CONSULT_TURNAROUND_FREE,
        "time_zone": settings.CONSULT_TIME_ZONE,
    }
    return render(request, "consult/queue.html", context)


@login_required
@require_POST
def claim(request: HttpRequest, public_id) -> HttpResponse:
    _consultant(request)
    consultation = get_object_or_404(Consultation, public_id=public_id)
    if rules.consultation_claim(consultation_id=consultation.pk, consultant=request.user):
        messages.success(request, "You claimed this question.")
        return redirect(consultation)
    messages.error(request, "Another consultant has already claimed this question.")
    return redirect("consult:queue")


@login_required
@require_POST
def release(request: HttpRequest, public_id) -> HttpResponse:
    _consultant(request)
    consultation = get_object_or_404(Consultation, public_id=public_id)
    if rules.consultation_release(consultation_id=consultation.pk, consultant=request.user):
        messages.success(request, "The question is back in the queue.")
    return redirect("consult:queue")


@login_required
@require_POST
def answer(request: HttpRequest, public_id) -> HttpResponse:
    _consultant(request)
    consultation = get_object_or_404(
        Consultation.objects.select_related("user"), public_id=public_id
    )
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Type an answer of up to 10,000 characters.")
        return redirect(consultation)
    codes = rules.codes_check(raw=form.cleaned_data["codes"])
    try:
        rules.answer_post(
            consultation=consultation,
            author=request.user,
            body=form.cleaned_data["body"],
            codes=codes,
        )
    except rules.Refused as refused:
        messages.error(request, str(refused))
        return redirect(consultation)
    messages.success(request, "Your answer was sent to the asker.")
    return redirect("consult:queue")
