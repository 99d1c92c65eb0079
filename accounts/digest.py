"""The weekly digest of the change feed: for each account with favourites, an email listing
the codes that new imports changed, with the kinds of change (never a value: the values stay
behind the metered pages), and a link to /account/changes/.

Each account gets at most one digest per period: the run claims the period by inserting the
account's ChangeDigest row (unique per account and period start) in the transaction that
queues the mail, so two runs at once, or a run repeated in the same week, send once. A week
without new changes sends nothing and claims nothing, so changes an import records later in
the week still go out. A run covers the changes up to the highest id that no import still in
progress can undercut (`codes.changes.changes_settled_through`), so none is passed over.
Unsubscribing takes a signed link and no login.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts.changefeed import favourite_codes, feed_keys
from accounts.models import ChangeDigest, User
from accounts.quota import period_bounds
from casepilot.mail import mail_send
from codes.changes import changes_settled_through, kinds_summary
from codes.models import CodeChange, CodeSystem

PERIOD = "week"
UNSUBSCRIBE_SALT = "accounts.change_digest.unsubscribe"
CODES_LISTED = 50


@dataclass
class DigestRun:
    considered: int = 0
    sent: int = 0


def unsubscribe_url(user: User) -> str:
    token = signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT, compress=True)
    return settings.SITE_URL + reverse("change_digest_unsubscribe", kwargs={"token": token})


def user_from_token(token: str) -> User | None:
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=pk, is_active=True).first() if isinstance(pk, int) else None


def digest_subscribe(*, user: User, on: bool) -> None:
    User.objects.filter(pk=user.pk).update(change_digest=on)


def digests_send_due(*, now: datetime.datetime | None = None) -> DigestRun:
    """Queue this period's digest for every subscribed account with favourites that has not
    had one this period."""
    now = now or timezone.now()
    start, _ = period_bounds(now=now, period=PERIOD)
    due = (
        User.objects.filter(is_active=True, change_digest=True, my_codes__starred=True)
        .exclude(change_digests__period_start=start)
        .distinct()
        .order_by("pk")
    )
    run = DigestRun()
    through = changes_settled_through()
    for pk in due.values_list("pk", flat=True).iterator():
        run.considered += 1
        if _digest_send(pk=pk, period_start=start, through=through):
            run.sent += 1
    return run


@transaction.atomic
def _digest_send(*, pk: int, period_start: datetime.date, through: int) -> bool:
    user = User.objects.get(pk=pk)
    changes = CodeChange.objects.for_codes(feed_keys(favourite_codes(user=user))).filter(
        pk__lte=through
    )
    last = ChangeDigest.objects.filter(user=user).aggregate(last=Max("through_change"))["last"]
    if last is None:  # the first digest: what imports changed since the account began
        changes = changes.filter(run__started_at__gte=user.date_joined)
    else:
        changes = changes.filter(pk__gt=last)
    rows = list(
        changes.order_by("system", "code", "id").values_list("pk", "system", "code", "kind")
    )
    if not rows:
        return False
    try:
        with transaction.atomic():
            ChangeDigest.objects.create(
                user=user,
                period_start=period_start,
                through_change=max(row[0] for row in rows),
                changes=len(rows),
            )
    except IntegrityError:  # another run claimed this account's period first
        return False
    codes = _codes_summary(rows)
    link = unsubscribe_url(user)
    mail_send(
        to=user.email,
        template="accounts/email/change_digest",
        context={
            "codes": codes[:CODES_LISTED],
            "more": max(0, len(codes) - CODES_LISTED),
            "changes_url": settings.SITE_URL + reverse("my_changes"),
            "unsubscribe_url": link,
        },
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        html=True,
    )
    return True


@dataclass(frozen=True)
class CodeSummary:
    system: str
    code: str
    summary: str


def _codes_summary(rows: list[tuple[int, str, str, str]]) -> list[CodeSummary]:
    names = dict(CodeSystem.objects.values_list("slug", "short_name"))
    kinds: dict[tuple[str, str], list[str]] = {}
    for _pk, system, code, kind in rows:
        kinds.setdefault((system, code), []).append(kind)
    return [
        CodeSummary(names.get(system, system.upper()), code, kinds_summary(found))
        for (system, code), found in kinds.items()
    ]
