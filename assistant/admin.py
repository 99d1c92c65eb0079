"""Editors' view of CasePilot: the questions it could not answer and the answers marked not
helpful, grouped by code — the list that says which content to fix next."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q

from assistant.models import Question


class NeedsWorkFilter(admin.SimpleListFilter):
    title = "needs work"
    parameter_name = "needs_work"

    def lookups(self, request, model_admin):
        return [
            ("yes", "Unanswered or not helpful"),
            ("unanswered", "Unanswered"),
            ("unhelpful", "Not helpful"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(Q(answered=False) | Q(helpful=False))
        if self.value() == "unanswered":
            return queryset.filter(answered=False)
        if self.value() == "unhelpful":
            return queryset.filter(helpful=False)
        return queryset


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("code_label", "text", "kind", "answered", "helpful", "comment", "created_at")
    list_filter = (NeedsWorkFilter, "kind", "answered", "helpful")
    search_fields = ("text", "comment", "code__key")
    # Grouped by code: the same code's questions sit together, the ones about no code last.
    ordering = ("code__key", "-created_at")
    list_select_related = ("code__system",)
    readonly_fields = ("conversation", "text", "kind", "code", "answered", "answer", "created_at")
    fields = (*readonly_fields, "helpful", "comment")

    @admin.display(description="code", ordering="code__key")
    def code_label(self, question: Question) -> str:
        if question.code is None:
            return "(no code)"
        return f"{question.code.system.short_name} {question.code.code}"

    def has_add_permission(self, request) -> bool:
        return False
