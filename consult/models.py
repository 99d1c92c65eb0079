"""CaseConsultant: a coding question, CasePilot's instant answer to it, and the certified coders'
answers, follow-ups and ratings (rules: consult/rules.py)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

CONSULTANTS_GROUP = "Consultants"


class ConsultationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ConsultationQuerySet:
        """The asker's own questions; every question for a consultant; nothing for anyone else."""
        if user is None or not user.is_authenticated:
            return self.none()
        if is_consultant(user):
            return self
        return self.filter(user_id=user.pk)

    def waiting(self) -> ConsultationQuerySet:
        return self.filter(status__in=[Consultation.Status.OPEN, Consultation.Status.CLAIMED])

    def overdue(self, *, now=None) -> ConsultationQuerySet:
        return self.waiting().filter(due_at__lt=now or timezone.now())


class Consultation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a consultant"
        CLAIMED = "claimed", "A consultant is answering"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    class Payer(models.TextChoices):
        MEDICARE = "medicare", "Medicare"
        MEDICAID = "medicaid", "Medicaid"
        COMMERCIAL = "commercial", "Commercial"
        OTHER = "other", "Other"

    class Place(models.TextChoices):
        OFFICE = "office", "Office (POS 11)"
        OUTPATIENT = "outpatient", "Hospital outpatient (POS 19/22)"
        INPATIENT = "inpatient", "Hospital inpatient (POS 21)"
        EMERGENCY = "emergency", "Emergency department (POS 23)"
        ASC = "asc", "Ambulatory surgical center (POS 24)"
        TELEHEALTH = "telehealth", "Telehealth (POS 02/10)"
        FACILITY = "facility", "Nursing or other facility"
        OTHER = "other", "Other"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consultations"
    )
    # The form's one-time token: a second post of the same form finds the first consultation.
    token = models.UUIDField(editable=False)
    subject = models.CharField(max_length=150)
    question = models.TextField(max_length=5000)
    codes = models.ManyToManyField("codes.Code", blank=True, related_name="+")
    unknown_codes = ArrayField(
        models.CharField(max_length=20),
        default=list,
        blank=True,
        help_text="Codes the asker typed that are not in our tables.",
    )
    date_of_service = models.DateField(null=True, blank=True)
    payer = models.CharField(max_length=20, choices=Payer.choices)
    specialty = models.CharField(max_length=100)
    place_of_service = models.CharField(max_length=20, choices=Place.choices)
    tier = models.CharField(
        max_length=10, help_text="free, paid or staff when asked: sets the turnaround."
    )
    instant_answer = models.JSONField(
        default=dict, blank=True, help_text="CasePilot's automatic answer, as it was given."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField(db_index=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="claimed_consultations",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="consultation_once_per_token"),
            models.CheckConstraint(
                condition=~Q(status="claimed") | Q(claimed_by__isnull=False),
                name="consultation_claimed_has_consultant",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("consult:thread", kwargs={"public_id": self.public_id})

    @property
    def is_overdue(self) -> bool:
        return (
            self.status in (self.Status.OPEN, self.Status.CLAIMED) and self.due_at < timezone.now()
        )

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class Answer(models.Model):
    """A consultant's answer; every one is kept, with who wrote it and when."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=10000)
    codes = models.ManyToManyField("codes.Code", blank=True, related_name="+")
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The asker's rating, 1 to 5."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="answer_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"Answer {self.pk} to {self.consultation_id}"


class FollowUp(models.Model):
    """The asker's one follow-up question to one answer."""

    answer = models.OneToOneField(Answer, on_delete=models.CASCADE, related_name="followup")
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Follow-up to answer {self.answer_id}"


def is_consultant(user) -> bool:
    """Staff in the Consultants group (the group is cached on the user for the request)."""
    if user is None or not user.is_authenticated or not user.is_staff:
        return False
    cached = getattr(user, "_is_consultant", None)
    if cached is None:
        cached = user.groups.filter(name=CONSULTANTS_GROUP).exists()
        user._is_consultant = cached
    return cached
