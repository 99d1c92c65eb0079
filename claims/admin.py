from django.contrib import admin

from claims.models import ClaimCheck


@admin.register(ClaimCheck)
class ClaimCheckAdmin(admin.ModelAdmin):
    list_display = ("summary", "user", "dos", "line_count", "denials", "checks", "created_at")
    search_fields = ("summary", "user__email")
    readonly_fields = [field.name for field in ClaimCheck._meta.fields]
