from __future__ import annotations

from django import template
from django.template.loader import render_to_string

from accounts import quota
from assistant.forms import AskForm
from codes import page_cache

register = template.Library()


@register.inclusion_tag("assistant/box.html", takes_context=True)
def casepilot_box(context: template.Context, code) -> dict:
    """The question box of a code page, with the code as the question's context and the
    number of questions the viewer has left.

    The form is the same for every viewer of the code: it is rendered once per data version
    (`data_version` in the page's context) and gets this request's CSRF token put in."""
    request = context["request"]
    ask = page_cache.part_get_or_build(
        "casepilot-ask",
        lambda: render_to_string(
            "assistant/box_ask.html",
            {
                "code": code,
                "form": AskForm(initial={"context": code.pk}),
                "csrf_token": page_cache.CSRF_MARKER,
            },
        ),
        version=context["data_version"],
        code=code.pk,
    )
    # A metered page's decision already counted the viewer's questions (same statement).
    admission = request.quota.admission if getattr(request, "quota", None) else None
    return {
        "ask_html": page_cache.csrf_fill(ask, token=str(context.get("csrf_token"))),
        "usage": quota.question_usage(
            user=request.user, session=request.session, admission=admission
        ),
        "free_questions": quota.question_free_allowance(),
        "user": request.user,
        "request": request,
    }
