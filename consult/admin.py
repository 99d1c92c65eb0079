from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.utils import timezone

from consult.models import Answer, Consultation, FollowUp


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "On time")]

    def queryset(self, request, queryset: QuerySet[Consultation]) -> QuerySet[Consultation]:
        overdue = Consultation.objects.overdue(now=timezone.now()).values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue)
        if self.value() == "no":
            return queryset.exclude(pk__in=overdue)
        return queryset


class AnswerInline(admin.StackedInline):
    model = Answer
    extra = 0
    fields = ["author", "body", "rating", "created_at"]
    readonly_fields = ["author", "created_at"]


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = ["subject", "user", "status", "tier", "due_at", "claimed_by", "created_at"]
    list_filter = [
        "status",
        ("claimed_by", admin.RelatedOnlyFieldListFilter),
        OverdueFilter,
        "tier",
        "payer",
    ]
    list_select_related = ["user", "claimed_by"]
    search_fields = ["subject", "user__email"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user", "claimed_by"]
    readonly_fields = ["public_id", "token", "instant_answer", "created_at"]
    exclude = ["codes"]
    inlines = [AnswerInline]


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["answer", "created_at"]
    raw_id_fields = ["answer"]
