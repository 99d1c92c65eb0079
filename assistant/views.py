"""CasePilot's pages: its own page with the topics, asking (a form that posts and a result page
that comes back), conversations, and feedback on each answer."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from accounts import quota
from assistant.answers import answer_build
from assistant.forms import AskForm, FeedbackForm
from assistant.model import answer_phrase
from assistant.models import Conversation, Question
from codes.models import Code

TOPICS = (
    ("CPT Codes", "What is CPT code 99213?"),
    ("Guidelines", "Guidelines for E/M services"),
    ("Modifiers", "Which modifier for bilateral 64494?"),
    ("Crosswalks", "Which diagnoses support 64494?"),
    ("NCCI Edits", "Can I bill 64493 with 77003?"),
    ("Compliance", "How many units of 64494 can I bill?"),
    ("Medicare Coverage", "Is 64494 covered by Medicare?"),
)
EXAMPLES = (
    "99213 vs 99214",
    "How much does Medicare pay for 99214?",
    "When was 64494 added?",
    "How do I count facet levels?",
)
RECENT = 20


def _guest_key(request: HttpRequest) -> str | None:
    key = request.session.get(quota.GUEST_KEY_SESSION)
    return str(key) if key else None


def _conversations(request: HttpRequest):
    return Conversation.objects.owned_by(user=request.user, session_key=_guest_key(request))


def _usage(request: HttpRequest) -> quota.Spend:
    return quota.question_usage(user=request.user, session=request.session)


def _home_context(request: HttpRequest, form: AskForm, **extra) -> dict:
    return {
        "form": form,
        "topics": TOPICS,
        "examples": EXAMPLES,
        "usage": _usage(request),
        "free_questions": quota.question_free_allowance(),
        "conversations": list(_conversations(request)[:RECENT]),
        **extra,
    }


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "assistant/home.html", _home_context(request, AskForm()))


def _context_code(form: AskForm, conversation: Conversation | None) -> Code | None:
    """The code a question is asked about when it names none: the page's, or the one the
    conversation has been about."""
    if conversation is not None and conversation.code_id:
        code_id = conversation.code_id
    else:
        code_id = form.cleaned_data.get("context")
    if not code_id:
        return None
    return Code.objects.select_related("system", "group").filter(pk=code_id).first()


@require_POST
def ask(request: HttpRequest) -> HttpResponse:
    if "\x00" in request.POST.get("question", ""):
        return HttpResponseBadRequest(
            "The question contained a NUL character.", content_type="text/plain"
        )
    form = AskForm(request.POST)
    conversation = None
    if form.is_valid() and form.cleaned_data["conversation"]:
        conversation = (
            _conversations(request).filter(public_id=form.cleaned_data["conversation"]).first()
        )
        if conversation is None:
            return render(request, "assistant/home.html", _home_context(request, form), status=404)
    if not form.is_valid():
        return render(request, "assistant/home.html", _home_context(request, form), status=400)
    address = quota.client_address(meta=request.META)
    spend, address_ok = quota.question_spend(
        user=request.user, session=request.session, address=address
    )
    if not spend.granted:
        context = _home_context(request, form, refused=spend, address_limited=not address_ok)
        return render(request, "assistant/home.html", context, status=429)
    text = form.cleaned_data["question"]
    answer = answer_build(
        text=text,
        today=timezone.now().astimezone(datetime.UTC).date(),
        sections=request.user.is_authenticated,
        context=_context_code(form, conversation),
    )
    if len(text.split()) >= 4:
        answer_phrase(question=text, answer=answer)
    if conversation is None:
        conversation = Conversation.objects.create(
            user=request.user if request.user.is_authenticated else None,
            guest_key="" if request.user.is_authenticated else _guest_key(request) or "",
            code_id=answer.code_id,
            title=text[:120],
        )
    else:
        updates = {"updated_at": timezone.now()}
        if conversation.code_id is None and answer.code_id:
            updates["code_id"] = answer.code_id
        Conversation.objects.filter(pk=conversation.pk).update(**updates)
    question = Question.objects.create(
        conversation=conversation,
        text=text,
        kind=answer.kind,
        code_id=answer.code_id,
        answered=answer.answered,
        answer=answer.as_dict(),
    )
    return HttpResponseRedirect(f"{conversation.get_absolute_url()}#q{question.pk}")


@require_safe
@never_cache
def conversation(request: HttpRequest, public_id) -> HttpResponse:
    found = get_object_or_404(
        _conversations(request).select_related("code__system"), public_id=public_id
    )
    context = {
        "conversation": found,
        "questions": list(found.questions.all()),
        "form": AskForm(initial={"conversation": found.public_id}),
        "usage": _usage(request),
        "free_questions": quota.question_free_allowance(),
    }
    return render(request, "assistant/conversation.html", context)


@require_POST
def delete(request: HttpRequest, public_id) -> HttpResponse:
    found = get_object_or_404(_conversations(request), public_id=public_id)
    found.delete()
    messages.success(request, "The conversation was deleted.")
    return redirect("assistant:home")


@require_POST
def feedback(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(
        Question.objects.filter(conversation__in=_conversations(request)).select_related(
            "conversation"
        ),
        pk=pk,
    )
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(
            "Say yes or no; a comment is limited to 1,000 characters.", content_type="text/plain"
        )
    Question.objects.filter(pk=question.pk).update(
        helpful=form.cleaned_data["helpful"], comment=form.cleaned_data["comment"].strip()
    )
    messages.success(request, "Thank you: editors read every answer marked not helpful.")
    url = reverse("assistant:conversation", kwargs={"public_id": question.conversation.public_id})
    return HttpResponseRedirect(f"{url}#q{question.pk}")
