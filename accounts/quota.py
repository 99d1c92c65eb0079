"""Every metering rule, in one place.

Code pages are the product, so they are metered: a guest gets `QUOTA_GUEST_VIEWS` pages per
period, a free account `QUOTA_FREE_VIEWS` in all (the guest's plus "5 more") once its email is
verified, paid plans their plan's number (or unlimited) and staff unlimited. Re-opening a code
already unlocked in the period is free. Counts live in Postgres and change in one SQL
statement, so N parallel requests against k remaining pages unlock exactly min(N, k), whichever
thread, process or server they reach.

Views and middleware only call the functions here.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

GUEST_KEY_SESSION = "quota_guest"

ViewerKind = Literal["guest", "free", "paid", "staff"]
Reason = Literal[
    "unlocked",  # this request used one view
    "reviewed",  # unlocked earlier this period: free
    "exhausted",  # nothing left
    "unverified",  # an account whose email is not verified has only the guest's views
    "address_cap",  # too many guest unlocks from this client address today
    "not_consumed",  # a request that never consumes (HEAD, prefetch) for a page not unlocked
]


@dataclass(frozen=True)
class Viewer:
    kind: ViewerKind
    subject: str | None  # None for a guest who has never unlocked anything
    allowance: int | None  # None means unlimited
    user_id: int | None
    address: str
    verified: bool = True

    @property
    def is_guest(self) -> bool:
        return self.kind == "guest"

    @property
    def is_unlimited(self) -> bool:
        return self.allowance is None


@dataclass(frozen=True)
class Usage:
    viewer: Viewer
    used: int
    period_start: datetime.date
    period_end: datetime.date  # first day of the next period

    @property
    def allowance(self) -> int | None:
        return self.viewer.allowance

    @property
    def remaining(self) -> int | None:
        if self.allowance is None:
            return None
        return max(0, self.allowance - self.used)

    @property
    def period_label(self) -> str:
        return {"month": "this month", "week": "this week", "day": "today"}[settings.QUOTA_PERIOD]


@dataclass(frozen=True)
class Admission:
    granted: bool
    reason: Reason
    usage: Usage
    # Another allowance of the same viewer that the page shows (CasePilot's questions on a
    # code page), counted by the same statement: `admit(…, also=…)`.
    also: Spend | None = None

    @property
    def newly_unlocked(self) -> bool:
        return self.reason == "unlocked"

    @property
    def remaining(self) -> int | None:
        """Views left as the viewer sees them: none while the address cap refuses a guest."""
        return 0 if self.reason == "address_cap" else self.usage.remaining


# --- Periods and addresses -----------------------------------------------------------------------


def period_bounds(
    *, now: datetime.datetime, period: str | None = None
) -> tuple[datetime.date, datetime.date]:
    """The current period [start, end) in UTC: `period` ("day", "week" or "month"), or the code
    pages' QUOTA_PERIOD when not given."""
    today = now.astimezone(datetime.UTC).date()
    period = period or settings.QUOTA_PERIOD
    if period == "day":
        return today, today + datetime.timedelta(days=1)
    if period == "week":
        start = today - datetime.timedelta(days=today.weekday())
        return start, start + datetime.timedelta(days=7)
    start = today.replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, end


def client_address(*, meta: Mapping[str, str]) -> str:
    """The client's address: REMOTE_ADDR, unless QUOTA_TRUSTED_PROXY_HOPS proxies of ours
    append to X-Forwarded-For, in which case the address that many hops from the right."""
    address = meta.get("REMOTE_ADDR", "") or "0.0.0.0"
    hops = settings.QUOTA_TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "0.0.0.0"


def request_may_consume(*, method: str, headers: Mapping[str, str]) -> bool:
    """Only a real GET navigation spends a view; HEAD and prefetches never do."""
    if method != "GET":
        return False
    purpose = (headers.get("Sec-Purpose") or headers.get("Purpose") or "").lower()
    return "prefetch" not in purpose and "prerender" not in purpose


# --- Who is looking --------------------------------------------------------------------------


def allowance_for_user(*, user) -> tuple[ViewerKind, int | None]:
    if user.is_staff:
        return "staff", None
    plan = user.plan
    if plan is not None:
        if plan.views_per_period is None:
            return "paid", None
        return "paid", plan.views_per_period + user.bonus_views
    if not user.email_verified:
        return "free", settings.QUOTA_GUEST_VIEWS
    return "free", settings.QUOTA_FREE_VIEWS + user.bonus_views


def viewer_for(*, user, session, meta: Mapping[str, str]) -> Viewer:
    address = client_address(meta=meta)
    if user is not None and user.is_authenticated:
        kind, allowance = allowance_for_user(user=user)
        return Viewer(
            kind=kind,
            subject=f"u:{user.pk}",
            allowance=allowance,
            user_id=user.pk,
            address=address,
            verified=user.is_staff or user.plan_id is not None or user.email_verified,
        )
    guest_key = session.get(GUEST_KEY_SESSION) if session is not None else None
    return Viewer(
        kind="guest",
        subject=f"g:{guest_key}" if guest_key else None,
        allowance=settings.QUOTA_GUEST_VIEWS,
        user_id=None,
        address=address,
    )


def guest_subject_for(*, session) -> str:
    """The guest's key, made (and kept in the session) the first time a guest unlocks.

    Parallel requests that share a session must share a key, or each would get its own
    allowance: so an existing session's key is derived from the session key (hashed, so the
    meter never holds a usable session id). A request with no session yet starts a new one.
    The key is then kept in the session's data, where it survives login's key rotation.
    """
    key = session.get(GUEST_KEY_SESSION)
    if not key:
        if session.session_key:
            key = hashlib.sha256(f"guest:{session.session_key}".encode()).hexdigest()[:24]
        else:
            key = secrets.token_urlsafe(18)
        session[GUEST_KEY_SESSION] = key
    return f"g:{key}"


# --- Spending views ----------------------------------------------------------------------------

ADMIT_SQL = """
WITH existing AS (
    SELECT 1 FROM accounts_unlock
    WHERE subject = %(subject)s AND period_start = %(period)s AND code_id = %(code)s
),
bump AS (
    INSERT INTO accounts_meter AS m (subject, resource, period_start, used, user_id, updated_at)
    SELECT %(subject)s, 'pages', %(period)s, 1, %(user)s, now()
    WHERE %(consume)s AND NOT EXISTS (SELECT 1 FROM existing)
      AND (%(allowance)s::integer IS NULL OR %(allowance)s::integer > 0)
    ON CONFLICT (subject, resource, period_start) DO UPDATE
        SET used = m.used + 1, updated_at = now()
        WHERE %(allowance)s::integer IS NULL OR m.used < %(allowance)s::integer
    RETURNING m.used
),
address AS (
    INSERT INTO accounts_guestaddressuse AS a (address, day, unlocks)
    SELECT %(address)s, %(day)s, 1
    WHERE %(address_cap)s::integer > 0 AND EXISTS (SELECT 1 FROM bump)
    ON CONFLICT (address, day) DO UPDATE
        SET unlocks = a.unlocks + 1
        WHERE a.unlocks < %(address_cap)s::integer
    RETURNING a.unlocks
),
inserted AS (
    INSERT INTO accounts_unlock (subject, period_start, code_id, user_id, created_at)
    SELECT %(subject)s, %(period)s, %(code)s, %(user)s, now()
    WHERE EXISTS (SELECT 1 FROM bump)
      AND (%(address_cap)s::integer IS NULL OR EXISTS (SELECT 1 FROM address))
    ON CONFLICT (subject, period_start, code_id) DO NOTHING
    RETURNING 1
)
SELECT
    EXISTS (SELECT 1 FROM existing),
    (SELECT used FROM bump),
    EXISTS (SELECT 1 FROM address),
    EXISTS (SELECT 1 FROM inserted),
    COALESCE((SELECT used FROM accounts_meter
              WHERE subject = %(subject)s AND resource = 'pages' AND period_start = %(period)s), 0),
    (SELECT used FROM accounts_meter
     WHERE subject = %(subject)s AND resource = %(also_resource)s
       AND period_start = %(also_period)s)
"""

REFUND_METER_SQL = """
UPDATE accounts_meter SET used = used - 1
WHERE subject = %(subject)s AND resource = 'pages' AND period_start = %(period)s AND used > 0
RETURNING used
"""

# A meter the refund brought back to zero counts nothing: drop it rather than keep one empty
# row per refused cookie-less request. A parallel request of the same viewer simply inserts
# it again (the INSERT … ON CONFLICT above waits for this row and then finds it gone).
DROP_EMPTY_METER_SQL = """
DELETE FROM accounts_meter WHERE subject = %(subject)s AND period_start = %(period)s AND used = 0
"""

REFUND_ADDRESS_SQL = """
UPDATE accounts_guestaddressuse SET unlocks = unlocks - 1
WHERE address = %(address)s AND day = %(day)s AND unlocks > 0
"""


def admit(
    *,
    viewer: Viewer,
    code_id: int,
    consume: bool,
    now: datetime.datetime | None = None,
    also: Allowance | None = None,
) -> Admission:
    """Decide whether `viewer` may read code `code_id`, spending a view if it must and may.

    One statement does the whole decision: it finds an earlier unlock, or adds one to the
    meter only while `used < allowance` (the row lock makes concurrent requests queue), caps
    guest unlocks per client address, and records the unlock. A request that lost a race to
    unlock the same code gives its view back.

    `also`: another allowance of the viewer's that the page shows; the same statement reads
    its count (spending nothing), so the page needs no query of its own for it.
    """
    now = now or timezone.now()
    start, end = period_bounds(now=now)
    also_start = period_bounds(now=now, period=also.period)[0] if also else None
    if viewer.subject is None:  # a guest who never unlocked anything: nothing to look up
        usage = Usage(viewer=viewer, used=0, period_start=start, period_end=end)
        if not consume:
            also_spend = _spend_counted(allowance=also, used=0, now=now) if also else None
            return Admission(granted=False, reason="not_consumed", usage=usage, also=also_spend)
        raise ValueError("A consuming guest needs a subject: call guest_subject_for() first.")
    params = {
        "subject": viewer.subject,
        "period": start,
        "code": code_id,
        "user": viewer.user_id,
        "consume": consume,
        "allowance": viewer.allowance,
        "address": viewer.address,
        "day": now.astimezone(datetime.UTC).date(),
        "address_cap": settings.QUOTA_GUEST_UNLOCKS_PER_ADDRESS if viewer.is_guest else None,
        "also_resource": also.resource if also else None,
        "also_period": also_start,
    }
    with connection.cursor() as cursor:
        cursor.execute(ADMIT_SQL, params)
        existing, bumped, address_ok, inserted, used, also_used = cursor.fetchone()
        if bumped is not None:
            used = bumped  # the statement's snapshot predates its own increment
        if bumped is not None and not inserted:
            # Either the address cap said no, or a parallel request unlocked this code first.
            with transaction.atomic():
                cursor.execute(REFUND_METER_SQL, params)
                row = cursor.fetchone()
                used = row[0] if row else used
                if row and row[0] == 0:
                    cursor.execute(DROP_EMPTY_METER_SQL, params)
                if address_ok:
                    cursor.execute(REFUND_ADDRESS_SQL, params)
    usage = Usage(viewer=viewer, used=used, period_start=start, period_end=end)
    granted, reason = _admission_outcome(
        viewer=viewer,
        consume=consume,
        existing=existing,
        bumped=bumped,
        inserted=inserted,
        address_refused=params["address_cap"] is not None and not address_ok,
    )
    also_spend = _spend_counted(allowance=also, used=also_used or 0, now=now) if also else None
    return Admission(granted=granted, reason=reason, usage=usage, also=also_spend)


def _admission_outcome(
    *,
    viewer: Viewer,
    consume: bool,
    existing: bool,
    bumped: int | None,
    inserted: bool,
    address_refused: bool,
) -> tuple[bool, Reason]:
    """What the admit statement's answers mean for the viewer."""
    if existing:
        return True, "reviewed"
    if inserted:
        return True, "unlocked"
    if bumped is not None:
        if address_refused:
            return False, "address_cap"
        return True, "reviewed"
    if not consume:
        return False, "not_consumed"
    if not viewer.verified:
        return False, "unverified"
    return False, "exhausted"


def usage_for(*, viewer: Viewer, now: datetime.datetime | None = None) -> Usage:
    from accounts.models import Meter

    start, end = period_bounds(now=now or timezone.now())
    used = 0
    if viewer.subject is not None:
        used = (
            Meter.objects.filter(subject=viewer.subject, resource="pages", period_start=start)
            .values_list("used", flat=True)
            .first()
        ) or 0
    return Usage(viewer=viewer, used=used, period_start=start, period_end=end)


def unlocked_codes(*, viewer: Viewer, now: datetime.datetime | None = None):
    """The codes `viewer` unlocked this period, newest first."""
    from accounts.models import Unlock

    start, _ = period_bounds(now=now or timezone.now())
    return (
        Unlock.objects.filter(subject=viewer.subject, period_start=start)
        .select_related("code__system")
        .order_by("-created_at", "-pk")  # pk settles unlocks made in one transaction
    )


def codes_readable_without_spending(
    *, user, code_ids: Iterable[int], now: datetime.datetime | None = None
) -> set[int]:
    """Which of `code_ids` an account may read in full now without spending a view: all of
    them for an unlimited viewer (staff, an unlimited plan), else those it unlocked this
    period. A guest gets none: section facts need an account.

    Pages that show a code's metered facts outside its page (the change feed) ask this, so
    that they never give away what opening the page would cost."""
    from accounts.models import Unlock

    wanted = set(code_ids)
    if user is None or not user.is_authenticated or not wanted:
        return set()
    _kind, allowance = allowance_for_user(user=user)
    if allowance is None:
        return wanted
    start, _ = period_bounds(now=now or timezone.now())
    unlocked = Unlock.objects.filter(subject=f"u:{user.pk}", period_start=start, code_id__in=wanted)
    return set(unlocked.values_list("code_id", flat=True))


MERGE_SQL = """
WITH moved AS (
    INSERT INTO accounts_unlock (subject, period_start, code_id, user_id, created_at)
    SELECT %(user_subject)s, period_start, code_id, %(user)s, created_at
    FROM accounts_unlock
    WHERE subject = %(guest_subject)s AND period_start = %(period)s
    ON CONFLICT (subject, period_start, code_id) DO NOTHING
    RETURNING 1
),
counted AS (
    INSERT INTO accounts_meter AS m (subject, resource, period_start, used, user_id, updated_at)
    SELECT %(user_subject)s, 'pages', %(period)s, count(*), %(user)s, now()
    FROM moved HAVING count(*) > 0
    ON CONFLICT (subject, resource, period_start) DO UPDATE
        SET used = m.used + EXCLUDED.used, updated_at = now()
    RETURNING m.used
)
SELECT (SELECT count(*) FROM moved), (SELECT used FROM counted)
"""


def guest_merge_into_account(*, session, user, now: datetime.datetime | None = None) -> int:
    """Carry what a guest unlocked this period into the account that just logged in.

    The pages count toward the account (a guest who read one page and signs up has five
    left, not six) and stay free to re-open. Returns how many pages were carried over.
    """
    key = session.get(GUEST_KEY_SESSION)
    if not key:
        return 0
    start, _ = period_bounds(now=now or timezone.now())
    params = {
        "user_subject": f"u:{user.pk}",
        "guest_subject": f"g:{key}",
        "user": user.pk,
        "period": start,
    }
    with connection.cursor() as cursor:
        cursor.execute(MERGE_SQL, params)
        carried, _used = cursor.fetchone()
    del session[GUEST_KEY_SESSION]
    return carried


# --- Other allowances: claim checks, questions, consultations ---------------------------------

# The resources metered on the same `accounts_meter` rows as code pages, each with its own
# period and numbers (settings.QUOTA_RESOURCES). Staff are always unlimited.


@dataclass(frozen=True)
class Allowance:
    """What one viewer may spend of one resource per period."""

    resource: str
    kind: ViewerKind
    allowance: int | None  # None means unlimited; 0 means none (the viewer must register)
    period: str  # "day", "week" or "month"
    verified: bool = True

    @property
    def is_unlimited(self) -> bool:
        return self.allowance is None

    @property
    def period_label(self) -> str:
        return {"month": "this month", "week": "this week", "day": "today"}[self.period]


@dataclass(frozen=True)
class Spend:
    """The outcome of trying to spend one unit: granted or not, and the count after it."""

    granted: bool
    allowance: Allowance
    used: int
    period_start: datetime.date
    period_end: datetime.date  # first day of the next period

    @property
    def remaining(self) -> int | None:
        if self.allowance.allowance is None:
            return None
        return max(0, self.allowance.allowance - self.used)


def _resource_rules(resource: str) -> Mapping[str, object]:
    try:
        return settings.QUOTA_RESOURCES[resource]
    except KeyError:
        raise ValueError(f"No allowance is configured for {resource!r}.") from None


def _period_for(rules: Mapping[str, object], kind: ViewerKind) -> str:
    """A resource's period: one for every viewer ("month"), or one per viewer kind
    ({"guest": "day", "free": "month", ...}; a kind left out takes the "free" account's)."""
    period = rules["period"]
    if isinstance(period, Mapping):
        return str(period.get(kind) or period["free"])
    return str(period)


def allowance_for(*, resource: str, user) -> Allowance:
    """The viewer's allowance of `resource`: a guest's, a free account's (once its email is
    verified; until then the guest's, over the guest's period), a paid plan's, or staff's
    (unlimited)."""
    rules = _resource_rules(resource)
    if user is None or not user.is_authenticated:
        return Allowance(resource, "guest", rules["guest"], _period_for(rules, "guest"), False)
    if user.is_staff:
        return Allowance(resource, "staff", None, _period_for(rules, "staff"))
    if user.plan_id is not None:
        return Allowance(resource, "paid", rules["paid"], _period_for(rules, "paid"))
    if not user.email_verified:
        return Allowance(resource, "free", rules["guest"], _period_for(rules, "guest"), False)
    return Allowance(resource, "free", rules["free"], _period_for(rules, "free"))


SPEND_SQL = """
WITH bump AS (
    INSERT INTO accounts_meter AS m (subject, resource, period_start, used, user_id, updated_at)
    SELECT %(subject)s, %(resource)s, %(period)s, 1, %(user)s, now()
    WHERE %(allowance)s::integer IS NULL OR %(allowance)s::integer > 0
    ON CONFLICT (subject, resource, period_start) DO UPDATE
        SET used = m.used + 1, updated_at = now()
        WHERE %(allowance)s::integer IS NULL OR m.used < %(allowance)s::integer
    RETURNING m.used
)
SELECT
    (SELECT used FROM bump),
    COALESCE((SELECT used FROM accounts_meter
              WHERE subject = %(subject)s AND resource = %(resource)s
                AND period_start = %(period)s), 0)
"""


def resource_spend(
    *,
    allowance: Allowance,
    subject: str,
    user_id: int | None,
    now: datetime.datetime | None = None,
) -> Spend:
    """Spend one unit of `allowance.resource` for `subject`, if `used < allowance`.

    One statement adds to the meter only while there is room (the row lock makes concurrent
    requests queue), so N parallel spends against k remaining grant exactly min(N, k).
    An unlimited viewer is counted too, so the account page can say how many were used.
    """
    start, end = period_bounds(now=now or timezone.now(), period=allowance.period)
    if allowance.allowance == 0:
        return Spend(False, allowance, 0, start, end)
    params = {
        "subject": subject,
        "resource": allowance.resource,
        "period": start,
        "user": user_id,
        "allowance": allowance.allowance,
    }
    with connection.cursor() as cursor:
        cursor.execute(SPEND_SQL, params)
        bumped, used = cursor.fetchone()
    # The statement's snapshot predates its own increment: the bump's count is the true one.
    return Spend(bumped is not None, allowance, bumped if bumped is not None else used, start, end)


def resource_usage(
    *, allowance: Allowance, subject: str | None, now: datetime.datetime | None = None
) -> Spend:
    """How much of `allowance` the subject has used this period, spending nothing."""
    from accounts.models import Meter

    now = now or timezone.now()
    used = 0
    if subject is not None:
        start = period_bounds(now=now, period=allowance.period)[0]
        used = (
            Meter.objects.filter(subject=subject, resource=allowance.resource, period_start=start)
            .values_list("used", flat=True)
            .first()
        ) or 0
    return _spend_counted(allowance=allowance, used=used, now=now)


def _spend_counted(*, allowance: Allowance, used: int, now: datetime.datetime) -> Spend:
    """A count read, spending nothing, as a `Spend`: granted while there is room."""
    start, end = period_bounds(now=now, period=allowance.period)
    room = allowance.allowance is None or used < allowance.allowance
    return Spend(room, allowance, used, start, end)


def claim_check_free_allowance() -> int:
    """What a free account gets, for the invitation a guest reads."""
    return int(_resource_rules("claim_checks")["free"])


def claim_check_allowance(*, user) -> Allowance:
    return allowance_for(resource="claim_checks", user=user)


def claim_check_spend(*, user, now: datetime.datetime | None = None) -> Spend:
    """Spend one claim check for a signed-in account (guests have none: they register)."""
    allowance = claim_check_allowance(user=user)
    if allowance.kind == "guest":
        start, end = period_bounds(now=now or timezone.now(), period=allowance.period)
        return Spend(False, allowance, 0, start, end)
    return resource_spend(allowance=allowance, subject=f"u:{user.pk}", user_id=user.pk, now=now)


def claim_check_usage(*, user, now: datetime.datetime | None = None) -> Spend:
    allowance = claim_check_allowance(user=user)
    subject = f"u:{user.pk}" if user is not None and user.is_authenticated else None
    return resource_usage(allowance=allowance, subject=subject, now=now)


# --- CasePilot questions -------------------------------------------------------------------------


def question_free_allowance() -> int:
    """What a free account gets, for the invitation a guest reads."""
    return int(_resource_rules("questions")["free"])


def question_allowance(*, user) -> Allowance:
    return allowance_for(resource="questions", user=user)


def question_subject(*, user, session) -> tuple[str, int | None]:
    """Whose questions these are: the account's, or the guest session's (the same key the
    code page meter uses, so one guest has one identity across allowances)."""
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}", user.pk
    return guest_subject_for(session=session), None


def question_spend(
    *, user, session, address: str, now: datetime.datetime | None = None
) -> tuple[Spend, bool]:
    """Spend one question, and one of the client address's questions for the day.

    Returns the viewer's spend and whether the address was within its own limit. The address
    limit (on top of every allowance, paid and staff included) stops a script that clears its
    cookies or rotates accounts from one machine; it is checked first so that a refused
    question never costs the viewer one of theirs.
    """
    subject, user_id = question_subject(user=user, session=session)
    allowance = question_allowance(user=user)
    address_ok = resource_spend(
        allowance=allowance_for(resource="question_address", user=None),
        subject=f"a:{address}",
        user_id=None,
        now=now,
    ).granted
    if not address_ok:
        held = resource_usage(allowance=allowance, subject=subject, now=now)
        return Spend(False, allowance, held.used, held.period_start, held.period_end), False
    return resource_spend(allowance=allowance, subject=subject, user_id=user_id, now=now), True


def question_usage(
    *, user, session, admission: Admission | None = None, now: datetime.datetime | None = None
) -> Spend:
    """How many questions the viewer has left, spending nothing (and making no guest key).

    On a code page the metering decision (`admission`) has already counted them, in the same
    statement: that count is used, and no query is made."""
    counted = admission.also if admission is not None else None
    if counted is not None and counted.allowance.resource == "questions":
        return counted
    allowance = question_allowance(user=user)
    if user is not None and user.is_authenticated:
        subject: str | None = f"u:{user.pk}"
    else:
        key = session.get(GUEST_KEY_SESSION) if session is not None else None
        subject = f"g:{key}" if key else None
    return resource_usage(allowance=allowance, subject=subject, now=now)


# --- The request's view of it all ----------------------------------------------------------------


class MeteredRequest:
    """What the quota middleware puts on `request.quota` for a metered page.

    It decides nothing until the view, having found the code (a 404 or a redirect is never
    metered), calls `admit(code_id=…)`.
    """

    def __init__(self, request) -> None:
        self._request = request
        self.may_consume = request_may_consume(method=request.method, headers=request.headers)
        self.admission: Admission | None = None

    @property
    def viewer(self) -> Viewer:
        request = self._request
        return viewer_for(user=request.user, session=request.session, meta=request.META)

    def admit(self, *, code_id: int) -> Admission:
        viewer = self.viewer
        new_guest = viewer.is_guest and viewer.subject is None and self.may_consume
        if new_guest:
            viewer = Viewer(
                kind="guest",
                subject=guest_subject_for(session=self._request.session),
                allowance=viewer.allowance,
                user_id=None,
                address=viewer.address,
            )
        # The page shows CasePilot's questions left too: counted by the same statement.
        questions = question_allowance(user=self._request.user)
        self.admission = admit(
            viewer=viewer, code_id=code_id, consume=self.may_consume, also=questions
        )
        if new_guest and not self.admission.granted:
            # Refused (the address cap): the key unlocked nothing, so keep no session for it.
            # A script clearing its cookies then leaves no row behind per request.
            del self._request.session[GUEST_KEY_SESSION]
        return self.admission


# --- Bounded growth ------------------------------------------------------------------------------


def usage_prune(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete what no rule reads any more: meters and unlocks of past periods, guest address
    counts of past days, and expired sessions. Returns the rows deleted, by kind.

    Past periods never decide anything (a new period starts every count at zero and makes
    every code unlockable again), so this changes no allowance. Run it from cron.
    """
    from django.contrib.sessions.models import Session

    from accounts.models import GuestAddressUse, Meter, Unlock

    now = now or timezone.now()
    start, _ = period_bounds(now=now)
    today = now.astimezone(datetime.UTC).date()
    return {
        "meters": Meter.objects.filter(period_start__lt=start).delete()[0],
        "unlocks": Unlock.objects.filter(period_start__lt=start).delete()[0],
        "guest_addresses": GuestAddressUse.objects.filter(day__lt=today).delete()[0],
        "sessions": Session.objects.filter(expire_date__lt=now).delete()[0],
    }


# --- CaseConsultant consultations ------------------------------------------------------------


def consultation_allowance(*, user) -> Allowance:
    return allowance_for(resource="consultations", user=user)


def consultation_spend(*, user, now: datetime.datetime | None = None) -> Spend:
    """Spend one consultation for a verified account (guests and unverified accounts have none:
    they register or verify first). Call it in the transaction that stores the question, so a
    question that is not stored gives its consultation back."""
    allowance = consultation_allowance(user=user)
    if allowance.kind == "guest" or not allowance.verified:
        start, end = period_bounds(now=now or timezone.now(), period=allowance.period)
        return Spend(False, allowance, 0, start, end)
    return resource_spend(allowance=allowance, subject=f"u:{user.pk}", user_id=user.pk, now=now)


def consultation_usage(*, user, now: datetime.datetime | None = None) -> Spend:
    allowance = consultation_allowance(user=user)
    subject = f"u:{user.pk}" if user is not None and user.is_authenticated else None
    return resource_usage(allowance=allowance, subject=subject, now=now)
