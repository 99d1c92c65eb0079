"""Jobs on the board, the jobs coders save, and the filters they ask to be emailed about.

Lifecycle rules (submit, approve, reject, expire, renew) live in `careers.postings`; the list
page's filters and counts in `careers.listing`; alerts in `careers.alerts`.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Case, ExpressionWrapper, F, Q, When
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from careers.choices import (
    HOURS_PER_YEAR,
    Arrangement,
    Credential,
    EmploymentType,
    PayPeriod,
    Setting,
    Specialty,
    State,
)

# Valid-through defaults and limits, in days from the day a job is submitted or renewed.
DEFAULT_DAYS_OPEN = 30
MAX_DAYS_OPEN = 90
DESCRIPTION_MAX_CHARS = 10_000


def _annual(field: str) -> Case:
    return Case(
        When(pay_period=PayPeriod.HOUR, then=F(field) * HOURS_PER_YEAR),
        default=F(field),
        output_field=models.DecimalField(max_digits=12, decimal_places=2),
    )


class JobQuerySet(models.QuerySet["Job"]):
    def live(self, *, today: datetime.date | None = None) -> JobQuerySet:
        """Published and not past their valid-through date: what the board lists."""
        today = today or timezone.localdate()
        return self.filter(status=Job.Status.PUBLISHED, valid_through__gte=today)

    def pending(self) -> JobQuerySet:
        return self.filter(status=Job.Status.PENDING)

    def expire_due(self, *, today: datetime.date | None = None) -> int:
        """Mark published jobs past their valid-through date as expired; return how many."""
        today = today or timezone.localdate()
        return self.filter(status=Job.Status.PUBLISHED, valid_through__lt=today).update(
            status=Job.Status.EXPIRED, updated_at=timezone.now()
        )


class Job(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING = "pending", "Pending review"
        PUBLISHED = "published", "Published"
        EXPIRED = "expired", "Expired"
        REJECTED = "rejected", "Rejected"

    title = models.CharField(max_length=150)
    slug = models.SlugField(max_length=80, editable=False)
    employer_name = models.CharField(max_length=150)
    employer_website = models.URLField(max_length=300, blank=True)
    employer_description = models.TextField(max_length=1000, blank=True)

    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2, choices=State.choices)
    arrangement = models.CharField(max_length=10, choices=Arrangement.choices)
    onsite_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For a hybrid job: days a week on site (1–4)."
    )
    remote_states = ArrayField(
        models.CharField(max_length=2, choices=State.choices),
        blank=True,
        default=list,
        help_text="For a remote job: the states it may hire in. Empty means any state.",
    )
    employment_type = models.CharField(max_length=12, choices=EmploymentType.choices)

    setting = models.CharField(max_length=20, choices=Setting.choices)
    specialties = ArrayField(
        models.CharField(max_length=30, choices=Specialty.choices), blank=True, default=list
    )
    credentials_required = ArrayField(
        models.CharField(max_length=10, choices=Credential.choices),
        blank=True,
        default=list,
        help_text="Any one of these is enough. Empty means none is required.",
    )
    credentials_preferred = ArrayField(
        models.CharField(max_length=10, choices=Credential.choices), blank=True, default=list
    )
    experience_years = models.PositiveSmallIntegerField(default=0)

    pay_min = models.DecimalField(max_digits=10, decimal_places=2)
    pay_max = models.DecimalField(max_digits=10, decimal_places=2)
    pay_period = models.CharField(max_length=4, choices=PayPeriod.choices)
    # Hourly and yearly pay on one (yearly) scale, so one index filters and sorts both.
    pay_min_annual = models.GeneratedField(
        expression=_annual("pay_min"),
        output_field=models.DecimalField(max_digits=12, decimal_places=2),
        db_persist=True,
    )
    pay_max_annual = models.GeneratedField(
        expression=_annual("pay_max"),
        output_field=models.DecimalField(max_digits=12, decimal_places=2),
        db_persist=True,
    )
    # A CPC-A can apply: CPC-A is one of the accepted credentials (or none is asked for) and
    # at most a year of experience is asked for.
    cpc_a_welcome = models.GeneratedField(
        expression=ExpressionWrapper(
            (Q(credentials_required__contains=[Credential.CPC_A]) | Q(credentials_required=[]))
            & Q(experience_years__lte=1),
            output_field=models.BooleanField(),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )

    description = models.TextField(
        max_length=DESCRIPTION_MAX_CHARS, help_text="Markdown: paragraphs, lists, links, bold."
    )
    description_html = models.TextField(editable=False, default="")
    search_vector = models.GeneratedField(
        expression=SearchVector("title", weight="A", config="english")
        + SearchVector("employer_name", weight="B", config="english")
        + SearchVector("description", weight="C", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    apply_url = models.URLField(max_length=500, blank=True)
    apply_email = models.EmailField(blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    is_example = models.BooleanField(
        default=False, help_text="Demo content: a fictional employer, shown as an example."
    )
    rejection_reason = models.TextField(max_length=2000, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs_posted",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs_reviewed",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the job was first published."
    )
    valid_through = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-posted_at", "-id"]
        indexes = [
            GinIndex(fields=["search_vector"], name="careers_job_search"),
            models.Index(
                fields=["-posted_at", "-id"],
                name="careers_job_live_newest",
                condition=Q(status="published"),
            ),
            models.Index(fields=["status", "valid_through"], name="careers_job_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(pay_max__gte=F("pay_min")), name="careers_job_pay_range"
            ),
            models.CheckConstraint(
                condition=~Q(apply_url="", apply_email=""), name="careers_job_apply_somewhere"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.employer_name}"

    def save(self, *args, **kwargs) -> None:
        from careers.markdown import markdown_render

        self.slug = job_slug(self.title, self.employer_name)
        self.description_html = markdown_render(self.description)
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("careers:job_detail", kwargs={"job_id": self.pk, "slug": self.slug})

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.valid_through >= timezone.localdate()

    @property
    def was_published(self) -> bool:
        """Once listed, a job's page stays up (saying it is closed) so old links still work."""
        return self.posted_at is not None

    @property
    def is_renewable(self) -> bool:
        return self.is_live

    def credential_labels(self, values: list[str]) -> list[str]:
        return [Credential(value).label for value in values]

    @property
    def specialty_labels(self) -> list[str]:
        return [Specialty(value).label for value in self.specialties]

    @property
    def remote_state_labels(self) -> list[str]:
        return [State(value).label for value in self.remote_states]

    @property
    def apply_href(self) -> str:
        return self.apply_url or f"mailto:{self.apply_email}"

    @property
    def arrangement_text(self) -> str:
        if self.arrangement == Arrangement.HYBRID and self.onsite_days:
            days = "day" if self.onsite_days == 1 else "days"
            return f"Hybrid, {self.onsite_days} {days} a week on site"
        return self.get_arrangement_display()

    @property
    def pay_text(self) -> str:
        def amount(value) -> str:
            return f"${value:,.2f}" if self.pay_period == PayPeriod.HOUR else f"${value:,.0f}"

        span = amount(self.pay_min)
        if self.pay_max != self.pay_min:
            span += f"–{amount(self.pay_max)}"
        return f"{span} {self.get_pay_period_display()}"


def job_slug(title: str, employer_name: str) -> str:
    return slugify(f"{title} {employer_name}")[:80].strip("-") or "job"


class SavedJob(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_jobs"
    )
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="saves")
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-saved_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "job"], name="careers_saved_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} saved {self.job_id}"


class JobAlert(models.Model):
    """A saved filter of the list page, emailed as a daily digest of new matches."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="job_alerts"
    )
    query = models.CharField(
        max_length=1000, blank=True, help_text="The list page's filters, as in its URL."
    )
    description = models.CharField(max_length=300)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Jobs published up to this moment have been considered for a digest.
    checked_through = models.DateTimeField(default=timezone.now)
    last_run_on = models.DateField(
        null=True, blank=True, help_text="The last day a digest was considered (UTC)."
    )
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user}: {self.description}"

    def get_list_url(self) -> str:
        url = reverse("careers:job_list")
        return f"{url}?{self.query}" if self.query else url
