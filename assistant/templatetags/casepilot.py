from __future__ import annotations

from django import template

from accounts import quota
from assistant.forms import AskForm

register = template.Library()


@register.inclusion_tag("assistant/box.html", takes_context=True)
def casepilot_box(context: template.Context, code) -> dict:
    """The question box of a code page, with the code as the question's context and the
    number of questions the viewer has left."""
    request = context["request"]
    # A metered page's decision already counted the viewer's questions (same statement).
    admission = request.quota.admission if getattr(request, "quota", None) else None
    return {
        "code": code,
        "form": AskForm(initial={"context": code.pk}),
        "usage": quota.question_usage(
            user=request.user, session=request.session, admission=admission
        ),
        "free_questions": quota.question_free_allowance(),
        "csrf_token": context.get("csrf_token"),
        "user": request.user,
        "request": request,
    }
