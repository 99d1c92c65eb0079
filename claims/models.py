"""Saved claim checks: what an account entered and what the check found, kept in its history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class ClaimCheckQuerySet(models.QuerySet):
    def owned_by(self, user) -> ClaimCheckQuerySet:
        """An account's own checks; anyone else's do not exist for it."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(user_id=user.pk)


class ClaimCheck(models.Model):
    """One check of one claim. The findings are stored as they were found, with the editions
    they came from, so reopening a check shows what the coder saw that day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claim_checks"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    dos = models.DateField(help_text="The claim's date of service.")
    line_count = models.PositiveSmallIntegerField()
    summary = models.CharField(max_length=200, help_text="The claim's codes, for the history.")
    denials = models.PositiveSmallIntegerField(default=0)
    checks = models.PositiveSmallIntegerField(default=0)
    result = models.JSONField(help_text="Lines, findings, payment and editions, as found.")

    objects = ClaimCheckQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="claimcheck_user_recent")]

    def __str__(self) -> str:
        return f"{self.summary} ({self.dos})"

    def get_absolute_url(self) -> str:
        return reverse("claims:result", kwargs={"pk": self.pk})
