from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from careers import postings
from careers.models import Job, JobAlert, SavedJob


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "employer_name",
        "status",
        "arrangement",
        "state",
        "setting",
        "posted_at",
        "valid_through",
        "is_example",
    )
    list_filter = (
        "status",
        "arrangement",
        "setting",
        "employment_type",
        "pay_period",
        "is_example",
        "state",
    )
    search_fields = ("title", "employer_name", "city", "posted_by__email")
    date_hierarchy = "created_at"
    raw_id_fields = ("posted_by", "reviewed_by")
    readonly_fields = ("slug", "posted_at", "reviewed_at", "created_at", "updated_at")
    actions = ("approve", "expire")

    @admin.action(description="Approve and publish the selected pending jobs")
    def approve(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._apply(
            request, queryset, lambda job: postings.job_approve(job=job, reviewer=request.user)
        )

    @admin.action(description="Expire the selected jobs")
    def expire(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._apply(
            request, queryset, lambda job: postings.job_expire(job=job, reviewer=request.user)
        )

    def _apply(self, request: HttpRequest, queryset: QuerySet[Job], action) -> None:
        done = 0
        for job in queryset:
            try:
                action(job)
                done += 1
            except postings.PostingError as error:
                self.message_user(request, f"{job}: {error}", messages.WARNING)
        self.message_user(request, f"{done} job{'s' if done != 1 else ''} updated.")


@admin.register(SavedJob)
class SavedJobAdmin(admin.ModelAdmin):
    list_display = ("user", "job", "saved_at")
    search_fields = ("user__email", "job__title")
    raw_id_fields = ("user", "job")


@admin.register(JobAlert)
class JobAlertAdmin(admin.ModelAdmin):
    list_display = ("user", "description", "is_active", "last_sent_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("user__email", "description")
    raw_id_fields = ("user",)
    readonly_fields = ("checked_through", "last_run_on", "last_sent_at")
