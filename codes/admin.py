from __future__ import annotations

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db.models import Model
from django.http import HttpRequest

from codes.models import (
    Code,
    CodeChange,
    CodeGroup,
    CodeHistory,
    CodeModifier,
    CodeSystem,
    CoverageReference,
    CrosswalkLink,
    Gpci,
    Guideline,
    ImportRun,
    Locality,
    Modifier,
    MueValue,
    NcciEdit,
    RelatedCode,
    Revision,
    RvuLine,
    SearchSynonym,
)


class RevisionInline(GenericTabularInline):
    """The edit history of an object's texts, newest first, read-only."""

    model = Revision
    extra = 0
    can_delete = False
    fields = ("created_at", "user", "field", "old_value", "new_value")
    readonly_fields = fields
    verbose_name = "revision"
    verbose_name_plural = "revision history"

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class RevisionedAdmin(admin.ModelAdmin):
    """Keeps who changed which text field, when, and the text before and after."""

    revision_fields: tuple[str, ...] = ()

    def save_model(self, request: HttpRequest, obj: Model, form, change: bool) -> None:
        before: dict[str, object] = {}
        if change and self.revision_fields:
            before = type(obj)._default_manager.filter(pk=obj.pk).values(*self.revision_fields)[0]
        super().save_model(request, obj, form, change)
        Revision.objects.bulk_create(
            Revision(
                target=obj,
                field=name,
                old_value=str(before.get(name) or ""),
                new_value=str(getattr(obj, name) or ""),
                user=request.user if request.user.is_authenticated else None,
            )
            for name in self.revision_fields
            if str(before.get(name) or "") != str(getattr(obj, name) or "")
        )

    def get_inlines(self, request: HttpRequest, obj: Model | None):
        inlines = list(super().get_inlines(request, obj))
        return [*inlines, RevisionInline] if obj is not None else inlines


@admin.register(CodeSystem)
class CodeSystemAdmin(RevisionedAdmin):
    list_display = ("short_name", "name", "publisher", "edition")
    revision_fields = ("copyright", "description")


@admin.register(CodeGroup)
class CodeGroupAdmin(admin.ModelAdmin):
    list_display = ("title", "system", "kind", "code_from", "code_to", "depth")
    list_filter = ("system", "kind")
    search_fields = ("title", "code_from", "slug")
    autocomplete_fields = ("parent",)
    list_select_related = ("system",)


class GuidelineInline(admin.StackedInline):
    model = Guideline
    fk_name = "code"
    extra = 0
    fields = ("title", "body", "sort")


class CodeModifierInline(admin.TabularInline):
    model = CodeModifier
    extra = 0
    autocomplete_fields = ("modifier",)


class CrosswalkInline(admin.TabularInline):
    model = CrosswalkLink
    fk_name = "code"
    extra = 0
    autocomplete_fields = ("diagnosis",)
    fields = ("diagnosis", "group_label", "note", "sort")


class CoverageInline(admin.StackedInline):
    model = CoverageReference
    extra = 0


class HistoryInline(admin.TabularInline):
    model = CodeHistory
    extra = 0
    fields = ("year", "date", "action", "note", "source")


class RelatedInline(admin.TabularInline):
    model = RelatedCode
    fk_name = "code"
    extra = 0
    autocomplete_fields = ("related",)
    fields = ("related", "note", "sort")


@admin.register(Code)
class CodeAdmin(RevisionedAdmin):
    list_display = ("code", "system", "short_descriptor", "status", "is_addon", "has_plain_text")
    list_filter = ("system", "status", "is_addon", "group")
    search_fields = ("key", "code", "short_descriptor", "long_descriptor", "plain_language")
    list_select_related = ("system",)
    autocomplete_fields = ("group", "primary_codes")
    readonly_fields = ("created_at", "updated_at")
    revision_fields = (
        "plain_language",
        "short_descriptor",
        "medium_descriptor",
        "long_descriptor",
        "consumer_descriptor",
    )
    inlines = [
        GuidelineInline,
        CodeModifierInline,
        CrosswalkInline,
        CoverageInline,
        HistoryInline,
        RelatedInline,
    ]
    fieldsets = (
        (None, {"fields": ("system", "code", "group", "status", "effective_date", "end_date")}),
        (
            "Official descriptors",
            {
                "fields": (
                    "short_descriptor",
                    "medium_descriptor",
                    "long_descriptor",
                    "consumer_descriptor",
                )
            },
        ),
        ("Our plain-language description", {"fields": ("plain_language",)}),
        ("Add-on", {"fields": ("is_addon", "primary_codes")}),
        (
            "Record",
            {
                "fields": ("is_billable", "notes", "created_at", "updated_at"),
                "classes": ("collapse",),
            },
        ),
    )

    @admin.display(boolean=True, description="plain text")
    def has_plain_text(self, obj: Code) -> bool:
        return bool(obj.plain_language)

    def get_search_results(self, request, queryset, search_term):
        # A code typed with its dot (M54.50) finds the stored key (M5450) too.
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        compact = search_term.replace(".", "").upper().strip()
        if compact and compact != search_term:
            queryset |= self.model.objects.filter(key__startswith=compact)
        return queryset, distinct


@admin.register(Modifier)
class ModifierAdmin(RevisionedAdmin):
    list_display = ("code", "short_descriptor", "status")
    search_fields = ("code", "short_descriptor", "long_descriptor")
    list_filter = ("status",)
    revision_fields = ("note", "short_descriptor", "long_descriptor")


@admin.register(Guideline)
class GuidelineAdmin(RevisionedAdmin):
    list_display = ("title", "code", "group", "sort", "updated_at")
    search_fields = ("title", "body", "code__key")
    autocomplete_fields = ("code", "group")
    list_select_related = ("code", "group")
    revision_fields = ("title", "body")


@admin.register(CrosswalkLink)
class CrosswalkLinkAdmin(RevisionedAdmin):
    list_display = ("code", "diagnosis", "group_label")
    search_fields = ("code__key", "diagnosis__key", "group_label")
    autocomplete_fields = ("code", "diagnosis")
    list_select_related = ("code", "diagnosis")
    revision_fields = ("note", "group_label")


@admin.register(CoverageReference)
class CoverageReferenceAdmin(RevisionedAdmin):
    list_display = ("kind", "number", "title", "contractor", "code", "effective_date", "end_date")
    list_filter = ("kind",)
    search_fields = ("number", "title", "contractor", "code__key")
    autocomplete_fields = ("code",)
    revision_fields = ("title", "note")


@admin.register(RelatedCode)
class RelatedCodeAdmin(RevisionedAdmin):
    list_display = ("code", "related", "note")
    search_fields = ("code__key", "related__key")
    autocomplete_fields = ("code", "related")
    revision_fields = ("note",)


@admin.register(CodeHistory)
class CodeHistoryAdmin(RevisionedAdmin):
    list_display = ("code", "year", "action", "source")
    list_filter = ("action", "year", "source")
    search_fields = ("code__key", "note")
    autocomplete_fields = ("code",)
    revision_fields = ("note",)


@admin.register(NcciEdit)
class NcciEditAdmin(admin.ModelAdmin):
    list_display = (
        "column1",
        "column2",
        "modifier_indicator",
        "effective_date",
        "deletion_date",
        "setting",
        "edition",
    )
    list_filter = ("edition", "modifier_indicator", "setting")
    list_select_related = ("edition",)
    search_fields = ("column1", "column2")
    show_full_result_count = False  # a count of millions of edits on every page


@admin.register(MueValue)
class MueValueAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "service",
        "value",
        "adjudication",
        "rationale",
        "effective_date",
        "edition",
    )
    list_filter = ("edition", "service", "adjudication")
    list_select_related = ("edition",)
    search_fields = ("code",)


@admin.register(RvuLine)
class RvuLineAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "modifier",
        "edition",
        "work_rvu",
        "nonfacility_total",
        "facility_total",
        "global_days",
    )
    list_filter = ("edition", "global_days")
    search_fields = ("code", "description")


@admin.register(SearchSynonym)
class SearchSynonymAdmin(RevisionedAdmin):
    list_display = ("term", "expansion")
    search_fields = ("term", "expansion")
    revision_fields = ("expansion",)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "format",
        "filename",
        "started_at",
        "finished_at",
        "added",
        "updated",
        "deleted",
        "unchanged",
    )
    list_filter = ("format",)
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CodeChange)
class CodeChangeAdmin(admin.ModelAdmin):
    """What imports changed per code: written by the importers only, so read-only here."""

    list_display = ("code", "system", "kind", "other_code", "percent", "edition_after", "run")
    list_filter = ("kind", "system", "run")
    search_fields = ("code", "other_code")
    list_select_related = ("run",)
    readonly_fields = [f.name for f in CodeChange._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CodeChange | None = None) -> bool:
        return False


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "content_type", "object_id", "field", "user")
    list_filter = ("content_type", "field")
    readonly_fields = (
        "content_type",
        "object_id",
        "field",
        "old_value",
        "new_value",
        "user",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class GpciInline(admin.TabularInline):
    model = Gpci
    extra = 0
    fields = ("year", "work", "pe", "mp", "edition", "notes")


@admin.register(Locality)
class LocalityAdmin(admin.ModelAdmin):
    """Medicare localities come from the CMS files (`cms-gpci`, `cms-locality`); editors can
    look them up and correct a county list."""

    list_display = ("name", "state", "mac", "number", "area")
    list_filter = ("state",)
    search_fields = ("name", "state", "state_name", "area", "counties", "mac")
    inlines = [GpciInline]
