"""Checklists and grade scales are configured here; inspections are history, read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .forms import GradeInlineFormSet, GradingCriterionForm
from .models import Answer, ChecklistCategory, Grade, GradeScale, GradingCriterion, Inspection


class GradingCriterionInline(admin.StackedInline):
    model = GradingCriterion
    form = GradingCriterionForm
    extra = 0
    ordering = ["order", "pk"]
    fieldsets = [
        (None, {"fields": [("order", "question", "kind"), "help_text"]}),
        (None, {"fields": [("weight", "critical", "required", "active", "program")]}),
        (
            _("Kind settings"),
            {"fields": ["scale_max", "options", ("min_value", "max_value", "unit")]},
        ),
    ]


@admin.register(ChecklistCategory)
class ChecklistAdmin(admin.ModelAdmin):
    """A category's checklist, ordered by the order field (lower asks first)."""

    list_display = ["name", "code"]
    fields = ["name", "code"]
    readonly_fields = ["name", "code"]
    inlines = [GradingCriterionInline]

    # Categories themselves are created in the receiving admin; here only their questions.
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GradingCriterion)
class GradingCriterionAdmin(admin.ModelAdmin):
    form = GradingCriterionForm
    list_display = [
        "question",
        "category",
        "program",
        "kind",
        "weight",
        "critical",
        "order",
        "active",
    ]
    list_editable = ["order", "active"]
    list_filter = ["category", "kind", "critical", "active", "program"]
    search_fields = ["question"]


class GradeInline(admin.TabularInline):
    model = Grade
    formset = GradeInlineFormSet
    extra = 0


@admin.register(GradeScale)
class GradeScaleAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "category"]
    inlines = [GradeInline]


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = ["question", "kind", "weight", "critical", "value", "earned", "failed"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = [
        "item",
        "grade_code",
        "score",
        "station",
        "inspector",
        "finished_at",
        "superseded",
    ]
    list_filter = ["grade_code", "critical_failure", "superseded", "station"]
    search_fields = ["item__lpn"]
    list_select_related = ["item", "station", "inspector"]
    inlines = [AnswerInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
