from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts import quota
from accounts.models import Plan


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
