from __future__ import annotations

import csv
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import quota
from claims.check import claim_check
from claims.forms import MAX_LINES, NEW_ROWS, ClaimForm, LineFormSet, claim_lines, code_read
from claims.models import ClaimCheck
from codes.payment import locality_find

PREFIX = "line"
ROW_FIELDS = ("code", "modifiers", "units", "dos", "place")
HISTORY_ON_FORM = 5


def _today() -> datetime.date:
    return timezone.now().astimezone(datetime.UTC).date()


def _blank_rows(request: HttpRequest, today: datetime.date, *, rows: list[dict]) -> LineFormSet:
    """An unbound set of line rows holding `rows`, with room for NEW_ROWS more (up to 50)."""
    wanted = min(MAX_LINES, max(NEW_ROWS, len(rows) + NEW_ROWS))
    initial = (rows + [{} for _ in range(wanted)])[:wanted]
    return LineFormSet(prefix=PREFIX, initial=initial, form_kwargs={"today": today})


def _posted_rows(request: HttpRequest) -> list[dict]:
    """The rows a person filled in, as typed, to show again with more room (no JavaScript)."""
    try:
        total = min(int(request.POST.get(f"{PREFIX}-TOTAL_FORMS", 0)), MAX_LINES)
    except ValueError:
        total = 0
    rows = []
    for index in range(max(total, 0)):
        row = {name: request.POST.get(f"{PREFIX}-{index}-{name}", "")[:20] for name in ROW_FIELDS}
        if any(row[name] for name in ("code", "modifiers", "dos")):
            rows.append({name: value.replace("\x00", "") for name, value in row.items()})
    return rows


def _page(request: HttpRequest, form, formset, *, status: int = 200, **extra) -> HttpResponse:
    user = request.user
    context = {
        "form": form,
        "formset": formset,
        "max_lines": MAX_LINES,
        "new_rows": NEW_ROWS,
        "free_checks": quota.claim_check_free_allowance(),
        "usage": quota.claim_check_usage(user=user) if user.is_authenticated else None,
        "recent": ClaimCheck.objects.owned_by(user)[:HISTORY_ON_FORM],
        **extra,
    }
    return render(request, "claims/check.html", context, status=status)


def _rows_to_prefill(request: HttpRequest, initial: dict) -> list[dict]:
    """Rows to start from: a code page's `?code=`, or the lines of one of the account's own
    saved checks (`?again=<id>`), to correct and check again."""
    code = request.GET.get("code", "")[:20]
    again = request.GET.get("again", "")
    if code:
        try:
            return [{"code": code_read(code), "units": 1}]
        except ValidationError:  # a bad ?code= just leaves the table empty
            return []
    if again.isdigit() and len(again) < 12:
        saved = ClaimCheck.objects.owned_by(request.user).filter(pk=int(again)).first()
        if saved is not None:
            initial["dos"] = saved.dos
            return [
                {
                    "code": line["code"],
                    "modifiers": " ".join(line["modifiers"]),
                    "units": line["units"],
                    "dos": "" if line["dos"] == saved.dos.isoformat() else line["dos"],
                    "place": "facility" if line["facility"] else "nonfacility",
                }
                for line in saved.result["lines"]
            ]
    return []


@require_http_methods(["GET", "HEAD", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    today = _today()
    if request.method != "POST":
        initial = {"dos": today, "place": "nonfacility"}
        rows = _rows_to_prefill(request, initial)
        form = ClaimForm(initial=initial, today=today)
        return _page(request, form, _blank_rows(request, today, rows=rows))

    form = ClaimForm(request.POST, today=today)
    if "add_lines" in request.POST:
        rows = _posted_rows(request)
        unbound = ClaimForm(initial=form.data.dict(), today=today)
        return _page(request, unbound, _blank_rows(request, today, rows=rows))

    formset = LineFormSet(request.POST, prefix=PREFIX, form_kwargs={"today": today})
    lines = claim_lines(form=form, formset=formset) if form.is_valid() & formset.is_valid() else []
    if not lines:
        return _page(request, form, formset, status=400)
    if not request.user.is_authenticated:
        return _page(request, form, formset, invite=True)
    spend = quota.claim_check_spend(user=request.user)
    if not spend.granted:
        return _page(request, form, formset, status=403, refused=spend)
    # Priced in the locality the account chose on a code page (national without one).
    pk = request.user.payment_locality_id
    result = claim_check(lines=lines, locality=locality_find(pk=pk) if pk else None)
    saved = ClaimCheck.objects.create(
        user=request.user,
        dos=form.cleaned_data["dos"],
        line_count=len(lines),
        summary=", ".join(line.code for line in result.lines)[:200],
        denials=sum(f.severity == "deny" for f in result.findings),
        checks=sum(f.severity == "check" for f in result.findings),
        result=result.as_dict(),
    )
    return HttpResponseRedirect(saved.get_absolute_url())


def _owned(request: HttpRequest, pk: int) -> ClaimCheck:
    return get_object_or_404(ClaimCheck.objects.owned_by(request.user), pk=pk)


@require_safe
@never_cache
def result(request: HttpRequest, pk: int) -> HttpResponse:
    saved = _owned(request, pk)
    return render(request, "claims/result.html", {"saved": saved, "result": saved.result})


def _csv_cell(value: object) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: never let one do that."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_safe
@never_cache
def result_csv(request: HttpRequest, pk: int) -> HttpResponse:
    saved = _owned(request, pk)
    data = saved.result
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="claim-check-{saved.pk}-{saved.dos.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    rows: list[list[object]] = [
        ["Line", "Code", "Modifiers", "Units", "Date of service", "Place", "Payment", "Basis"]
    ]
    for line in data["lines"]:
        rows.append(
            [
                line["number"],
                line["code"],
                " ".join(line["modifiers"]),
                line["units"],
                line["dos"],
                "facility" if line["facility"] else "non-facility",
                line["payment"],
                line["payment_note"],
            ]
        )
    rows.append(["", "Total", "", "", "", "", data["total_payment"], data["payment_basis"]])
    rows.append([])
    rows.append(["Severity", "Lines", "Codes", "Date of service", "Finding", "Detail", "Edition"])
    for finding in data["findings"]:
        rows.append(
            [
                finding["severity_label"],
                " ".join(str(n) for n in finding["lines"]),
                " ".join(finding["codes"]),
                finding["dos"],
                finding["title"],
                finding["detail"],
                finding["edition"],
            ]
        )
    writer.writerows([[_csv_cell(cell) for cell in row] for row in rows])
    return response


@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    saved = _owned(request, pk)
    saved.delete()
    messages.success(request, f"Deleted the check of {saved.summary}.")
    return redirect(reverse("claims:history"))


@require_safe
@login_required
def history(request: HttpRequest) -> HttpResponse:
    checks = ClaimCheck.objects.owned_by(request.user).defer("result")
    usage = quota.claim_check_usage(user=request.user)
    context = {"checks": checks, "usage": usage, "free_checks": quota.claim_check_free_allowance()}
    return render(request, "claims/history.html", context)
