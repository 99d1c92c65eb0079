from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import GuestAddressUse, Meter, MyCode, Plan, Unlock, User


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "views_per_period")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "plan", "bonus_views", "email_verified", "is_staff", "date_joined")
    list_filter = ("plan", "email_verified", "is_staff", "is_active")
    list_select_related = ("plan",)
    search_fields = ("email", "name")
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password", "name")}),
        ("Plan and allowance", {"fields": ("plan", "bonus_views", "email_verified")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = ("subject", "user", "resource", "period_start", "used", "updated_at")
    list_filter = ("resource", "period_start")
    search_fields = ("subject", "user__email")
    readonly_fields = ("subject", "user", "resource", "period_start", "used", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Unlock)
class UnlockAdmin(admin.ModelAdmin):
    list_display = ("subject", "user", "code", "period_start", "created_at")
    list_filter = ("period_start",)
    search_fields = ("subject", "user__email", "code__key")
    list_select_related = ("user", "code")
    readonly_fields = ("subject", "user", "code", "period_start", "created_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(GuestAddressUse)
class GuestAddressUseAdmin(admin.ModelAdmin):
    list_display = ("address", "day", "unlocks")
    list_filter = ("day",)
    search_fields = ("address",)


@admin.register(MyCode)
class MyCodeAdmin(admin.ModelAdmin):
    """Notes are private: the admin is the one place staff may read them (support, law)."""

    list_display = ("user", "code", "starred", "position", "note_updated_at")
    list_filter = ("starred",)
    search_fields = ("user__email", "code__key")
    list_select_related = ("user", "code")
    raw_id_fields = ("user", "code")
