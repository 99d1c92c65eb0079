"""Conversations with CasePilot: each question, the answer it got (as stored facts with their
sources and editions) and what the asker said about it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class ConversationQuerySet(models.QuerySet):
    def owned_by(self, *, user, session_key: str | None) -> ConversationQuerySet:
        """An account's own conversations, or the guest session's; anyone else's do not exist."""
        if user is not None and user.is_authenticated:
            return self.filter(user_id=user.pk)
        if session_key:
            return self.filter(user__isnull=True, guest_key=session_key)
        return self.none()


class Conversation(models.Model):
    """A run of questions that share a code context. An account keeps its conversations; a
    guest's belongs to the session that asked (`guest_key`) and lasts as long as it does."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations",
    )
    guest_key = models.CharField(max_length=64, blank=True, db_index=True)
    code = models.ForeignKey(
        "codes.Code",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The code the conversation is about; follow-up questions keep it.",
    )
    title = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "-updated_at"], name="conversation_user_recent")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("assistant:conversation", kwargs={"public_id": self.public_id})


class Question(models.Model):
    """One question and its answer as it was given (facts, links, editions), with feedback."""

    class Kind(models.TextChoices):
        CODE = "code", "Code"
        COMPARE = "compare", "Compare"
        GUIDELINES = "guidelines", "Guidelines"
        MODIFIERS = "modifiers", "Modifiers"
        CROSSWALK = "crosswalk", "Crosswalk"
        NCCI = "ncci", "NCCI edit"
        MUE = "mue", "MUE"
        PAYMENT = "payment", "Payment"
        COVERAGE = "coverage", "Coverage"
        HISTORY = "history", "History"
        UNANSWERED = "unanswered", "Unanswered"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="questions"
    )
    text = models.TextField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    code = models.ForeignKey(
        "codes.Code", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered = models.BooleanField(default=True)
    answer = models.JSONField(help_text="The facts, links and editions as shown.")
    helpful = models.BooleanField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:80]
