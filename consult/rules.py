"""CaseConsultant's rules: asking (PHI refused, one consultation per form, the allowance spent in
the same transaction), the turnaround, the consultants' atomic claim, answers, follow-ups,
ratings and closing, and the mail each step sends through the queue.

Views only call the functions here. Allowances are in accounts/quota.py; the instant answer is
CasePilot's (assistant/answers.py); codes are looked up in codes/.
"""

from __future__ import annotations

import datetime
import re
import uuid
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import quota
from assistant.answers import MAX_QUESTION_LENGTH as CASEPILOT_MAX_LENGTH
from assistant.answers import answer_build
from casepilot.mail import mail_send
from codes.models import Code
from codes.normalize import MAX_CODE_INPUT, code_key
from consult.models import CONSULTANTS_GROUP, Answer, Consultation, FollowUp

MAX_CODES = 20
CODE_SPLIT = re.compile(r"[\s,;]+")
CODE_WITH_MODIFIER = re.compile(r"^([0-9A-Za-z.]+)-[0-9A-Za-z]{2}$")


class Refused(Exception):
    """The action is not allowed as asked; the message says why, for the person."""


# --- Turnaround --------------------------------------------------------------------------------


def turnaround_days(*, tier: str) -> int:
    return settings.CONSULT_TURNAROUND_FREE if tier == "free" else settings.CONSULT_TURNAROUND_PAID


def due_at_compute(*, asked_at: datetime.datetime, tier: str) -> datetime.datetime:
    """When a question asked at `asked_at` must be answered: `turnaround_days` business days
    (Monday to Friday in CONSULT_TIME_ZONE) later, at the same time of day. A question asked on
    a weekend counts from the start of the next Monday, so it gets whole business days too."""
    zone = zoneinfo.ZoneInfo(settings.CONSULT_TIME_ZONE)
    local = asked_at.astimezone(zone)
    if local.weekday() >= 5:
        monday = local.date() + datetime.timedelta(days=7 - local.weekday())
        local = datetime.datetime.combine(monday, datetime.time(0, 0), tzinfo=zone)
    day = local.date()
    left = turnaround_days(tier=tier)
    while left:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    due = datetime.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=zone)
    return due.astimezone(datetime.UTC)


# --- Codes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    known: list[Code]
    unknown: list[str]


def codes_check(*, raw: str) -> CodeCheck:
    """The codes typed in `raw` (spaces or commas between, a modifier suffix such as -50 allowed):
    those in our tables, and those that are not (flagged, never fatal)."""
    typed: list[str] = []
    for token in CODE_SPLIT.split(raw.strip()):
        if not token:
            continue
        match = CODE_WITH_MODIFIER.match(token)
        token = match.group(1) if match else token
        if len(token) > MAX_CODE_INPUT:
            token = token[:MAX_CODE_INPUT]
        if token.upper() not in (t.upper() for t in typed):
            typed.append(token)
    typed = typed[:MAX_CODES]
    keys = {code_key(token): token for token in typed}
    found: dict[str, Code] = {}
    for code in Code.objects.select_related("system").filter(key__in=keys).order_by("system_id"):
        # One row per key: J11.00 typed with a dot is ICD-10-CM, J1100 HCPCS.
        typed_with_dot = "." in keys[code.key]
        preferred = found.get(code.key)
        if preferred is None or (code.system.slug == "icd10cm") == typed_with_dot:
            found[code.key] = code
    known = [found[key] for key in keys if key in found]
    unknown = [token for key, token in keys.items() if key not in found]
    return CodeCheck(known=known, unknown=unknown)


# --- Asking --------------------------------------------------------------------------------------


def tier_for(*, user) -> str:
    return quota.consultation_allowance(user=user).kind


def instant_answer_build(*, question: str, codes: list[Code]) -> dict:
    """CasePilot's answer to the question, from our tables, stored as it was given."""
    text = question[:CASEPILOT_MAX_LENGTH]
    answer = answer_build(
        text=text,
        today=timezone.now().astimezone(datetime.UTC).date(),
        sections=True,
        context=codes[0] if codes else None,
    )
    return answer.as_dict()


@dataclass(frozen=True)
class Asked:
    consultation: Consultation | None
    created: bool
    spend: quota.Spend | None = None  # set when the allowance refused the question


def consultation_ask(*, user, token: uuid.UUID, fields: dict, codes: CodeCheck) -> Asked:
    """Store one question (the caller has already refused PHI), spend one consultation for it
    and queue the mail. The same form posted twice stores one question: the (user, token)
    constraint makes the second insert wait for the first and fail, and it finds the first."""
    existing = Consultation.objects.filter(user=user, token=token).first()
    if existing is not None:
        return Asked(existing, created=False)
    instant = instant_answer_build(question=fields["question"], codes=codes.known)
    now = timezone.now()
    tier = tier_for(user=user)
    try:
        with transaction.atomic():
            consultation = Consultation.objects.create(
                user=user,
                token=token,
                tier=tier,
                due_at=due_at_compute(asked_at=now, tier=tier),
                unknown_codes=codes.unknown,
                instant_answer=instant,
                created_at=now,
                **fields,
            )
            consultation.codes.set(codes.known)
            spend = quota.consultation_spend(user=user, now=now)
            if not spend.granted:
                transaction.set_rollback(True)
                return Asked(None, created=False, spend=spend)
            _mail_received(consultation)
            _mail_consultants(consultation, template="consult/email/new_question")
    except IntegrityError:
        return Asked(Consultation.objects.get(user=user, token=token), created=False)
    return Asked(consultation, created=True)


# --- Consultants ---------------------------------------------------------------------------------


def consultants() -> list:
    return list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=CONSULTANTS_GROUP)
        .order_by("email")
    )


def consultation_claim(*, consultation_id: int, consultant) -> bool:
    """Claim a waiting question for `consultant`. One UPDATE whose WHERE requires nobody to
    hold it: a second consultant's UPDATE waits for the first's row lock, re-reads the row and
    matches nothing, so two consultants can never both claim one question."""
    claimed = Consultation.objects.filter(
        pk=consultation_id, claimed_by__isnull=True, status=Consultation.Status.OPEN
    ).update(
        claimed_by=consultant,
        claimed_at=timezone.now(),
        status=Consultation.Status.CLAIMED,
    )
    return claimed == 1


def consultation_release(*, consultation_id: int, consultant) -> bool:
    """Give a claimed question back to the queue (only its holder can)."""
    released = Consultation.objects.filter(
        pk=consultation_id, claimed_by=consultant, status=Consultation.Status.CLAIMED
    ).update(claimed_by=None, claimed_at=None, status=Consultation.Status.OPEN)
    return released == 1


def answer_post(*, consultation: Consultation, author, body: str, codes: CodeCheck) -> Answer:
    """Keep the consultant's answer, mark the question answered and mail the asker. Only the
    consultant holding the claim may answer."""
    with transaction.atomic():
        marked = Consultation.objects.filter(
            pk=consultation.pk, claimed_by=author, status=Consultation.Status.CLAIMED
        ).update(status=Consultation.Status.ANSWERED, answered_at=timezone.now())
        if not marked:
            raise Refused("Claim the question before answering it.")
        answer = Answer.objects.create(consultation=consultation, author=author, body=body)
        answer.codes.set(codes.known)
        consultation.refresh_from_db()
        mail_send(
            to=consultation.user.email,
            template="consult/email/answered",
            context={"consultation": consultation, "answer": answer, "codes": codes.known},
            html=True,
        )
    return answer


# --- The asker's side ----------------------------------------------------------------------------


def followup_post(*, answer: Answer, text: str) -> FollowUp:
    """One follow-up per answer; it puts the question back in its consultant's hands, with a
    new due time."""
    consultation = answer.consultation
    if consultation.is_closed:
        raise Refused("This question is closed.")
    try:
        with transaction.atomic():
            followup = FollowUp.objects.create(answer=answer, text=text)
            now = timezone.now()
            Consultation.objects.filter(pk=consultation.pk).update(
                status=Consultation.Status.CLAIMED
                if consultation.claimed_by_id
                else Consultation.Status.OPEN,
                due_at=due_at_compute(asked_at=now, tier=consultation.tier),
            )
            consultation.refresh_from_db()
            _mail_consultants(consultation, template="consult/email/followup")
    except IntegrityError:
        raise Refused("You have already asked a follow-up to this answer.") from None
    return followup


def answer_rate(*, answer: Answer, rating: int) -> None:
    if not 1 <= rating <= 5:
        raise Refused("Rate the answer from 1 to 5.")
    Answer.objects.filter(pk=answer.pk).update(rating=rating)


def consultation_close(*, consultation: Consultation) -> None:
    Consultation.objects.filter(pk=consultation.pk).update(
        status=Consultation.Status.CLOSED, closed_at=timezone.now()
    )


# --- Mail ----------------------------------------------------------------------------------------


def _local(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(zoneinfo.ZoneInfo(settings.CONSULT_TIME_ZONE))


def _mail_received(consultation: Consultation) -> None:
    mail_send(
        to=consultation.user.email,
        template="consult/email/received",
        context={"consultation": consultation, "due": _local(consultation.due_at)},
    )


def _mail_consultants(consultation: Consultation, *, template: str) -> None:
    for consultant in consultants():
        mail_send(
            to=consultant.email,
            template=template,
            context={"consultation": consultation, "due": _local(consultation.due_at)},
        )
