"""Rules, partners and settings are configured here; decisions and refunds are read-only.

Status never changes through a form: admin actions call the services, which check and record.
"""

import csv
from copy import copy

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import construct_instance
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from returns_desk.exceptions import DomainError
from returns_desk.models import ProductCategory, Program, ReasonCode

from . import rules, services
from .models import (
    DefaultDestination,
    Disposition,
    DispositionRule,
    DispositionSettings,
    Lot,
    Outcome,
    Partner,
    RefundInstruction,
    RepairOrder,
)
from .selectors import active_rules

CATCH_ALL_MISSING = _(
    "The active rules must end in a catch-all (a rule with no conditions), so that every unit "
    "gets a disposition. Add one with the highest order first."
)


def _ends_in_catch_all(candidates: list[tuple[int, float, rules.Conditions]]) -> bool:
    return rules.ends_in_catch_all([conditions for *_, conditions in sorted(candidates)])


class DispositionRuleForm(forms.ModelForm):
    class Meta:
        model = DispositionRule
        fields = [
            "order",
            "name",
            "active",
            "programs",
            "reasons",
            "grades",
            "categories",
            "critical_failure",
            "min_value",
            "max_value",
            "in_warranty",
            "recall",
            "min_days",
            "max_days",
            "outcome",
            "destination_bin",
            "partner",
            "refund",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        rule = construct_instance(self, copy(self.instance))
        others = [
            (other.order, other.pk, other.conditions())
            for other in active_rules().exclude(pk=rule.pk)
        ]
        if rule.active:
            mine = rule.conditions(
                programs=cleaned.get("programs", []),
                reasons=cleaned.get("reasons", []),
                categories=cleaned.get("categories", []),
            )
            # A new rule sorts after existing ones of the same order, as it will once saved.
            others.append((rule.order, rule.pk or float("inf"), mine))
        if not _ends_in_catch_all(others):
            raise ValidationError(CATCH_ALL_MISSING)
        return cleaned


class TryRulesForm(forms.Form):
    """A hypothetical unit, described by what the rules can ask of it."""

    program = forms.ModelChoiceField(Program.objects.all(), label=_("Program"), required=False)
    reason = forms.ModelChoiceField(ReasonCode.objects.all(), label=_("Reason"), required=False)
    grade = forms.CharField(label=_("Grade"), max_length=10, required=False)
    category = forms.ModelChoiceField(
        ProductCategory.objects.all(), label=_("Category"), required=False
    )
    critical_failure = forms.BooleanField(label=_("Critical failure"), required=False)
    unit_value = forms.DecimalField(
        label=_("Unit value"), max_digits=10, decimal_places=2, min_value=0, initial=0
    )
    in_warranty = forms.BooleanField(label=_("Under warranty"), required=False)
    recall = forms.BooleanField(label=_("Recall"), required=False)
    days_since_purchase = forms.IntegerField(
        label=_("Days since purchase"), min_value=0, required=False
    )
    include_inactive = forms.BooleanField(
        label=_("Include inactive"),
        required=False,
        help_text=_("Try draft rules (saved inactive) in their place in the order."),
    )

    def facts(self) -> rules.Facts:
        data = self.cleaned_data
        return rules.Facts(
            program=data["program"].code if data["program"] else "",
            reason=data["reason"].code if data["reason"] else "",
            grade=data["grade"].strip().upper(),
            category=data["category"].code if data["category"] else "",
            critical_failure=data["critical_failure"],
            unit_value=data["unit_value"],
            in_warranty=data["in_warranty"],
            recall=data["recall"],
            days_since_purchase=data["days_since_purchase"],
        )


@admin.register(DispositionRule)
class DispositionRuleAdmin(admin.ModelAdmin):
    """Rules run in order, lowest first; the first whose conditions all hold decides."""

    form = DispositionRuleForm
    list_display = ["order", "name", "outcome", "partner", "destination_bin", "refund", "active"]
    list_display_links = ["order", "name"]
    list_filter = ["active", "outcome", "refund"]
    ordering = ["order", "pk"]
    filter_horizontal = ["programs", "reasons", "categories"]
    change_list_template = "admin/disposition/dispositionrule/change_list.html"
    fieldsets = [
        (None, {"fields": [("order", "name", "active")]}),
        (
            _("Conditions (leave empty to match any)"),
            {
                "fields": [
                    "programs",
                    "reasons",
                    "grades",
                    "categories",
                    ("critical_failure", "in_warranty", "recall"),
                    ("min_value", "max_value"),
                    ("min_days", "max_days"),
                ]
            },
        ),
        (_("Result"), {"fields": ["outcome", ("destination_bin", "partner"), "refund"]}),
    ]

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        # Bulk delete would bypass the catch-all check the single delete makes.
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions

    def get_urls(self):
        return [
            path(
                "try/",
                self.admin_site.admin_view(self.try_rules_view),
                name="disposition_dispositionrule_try",
            ),
            *super().get_urls(),
        ]

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None):
        remaining = [
            (rule.order, rule.pk, rule.conditions())
            for rule in active_rules().exclude(pk=object_id)
        ]
        if not _ends_in_catch_all(remaining):
            self.message_user(
                request,
                gettext("Not deleted. %(reason)s") % {"reason": CATCH_ALL_MISSING},
                level=messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:disposition_dispositionrule_change", args=[object_id])
            )
        return super().delete_view(request, object_id, extra_context)

    def try_rules_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = TryRulesForm(request.GET or None)
        trace = None
        if form.is_valid():
            ruleset = (
                DispositionRule.objects.select_related("partner")
                .prefetch_related("programs", "reasons", "categories")
                .order_by("order", "pk")
            )
            if not form.cleaned_data["include_inactive"]:
                ruleset = ruleset.filter(active=True)
            trace = rules.first_match(((rule, rule.conditions()) for rule in ruleset), form.facts())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Try the rules"),
            "form": form,
            "trace": trace,
        }
        return TemplateResponse(request, "admin/disposition/try_rules.html", context)


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "licence_number", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "code"]


@admin.register(DefaultDestination)
class DefaultDestinationAdmin(admin.ModelAdmin):
    list_display = ["outcome", "destination_bin", "partner"]


class DispositionSettingsForm(forms.ModelForm):
    outcomes_needing_approval = forms.MultipleChoiceField(
        choices=Outcome.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Outcomes needing approval"),
        help_text=_("An override to one of these always waits for a supervisor."),
    )

    class Meta:
        model = DispositionSettings
        fields = [
            "override_value_threshold",
            "outcomes_needing_approval",
            "max_repair_cycles",
            "end_of_life_outcome",
            "warranty_days",
        ]


@admin.register(DispositionSettings)
class DispositionSettingsAdmin(admin.ModelAdmin):
    form = DispositionSettingsForm
    list_display = ["__str__", "override_value_threshold", "max_repair_cycles"]

    def has_add_permission(self, request) -> bool:
        return not DispositionSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the services: viewed here, changed only through actions."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _run(modeladmin, request, objects, action, done) -> int:
    """Call a service per object; report refusals one by one, the successes together.

    `done` is the success message, an ngettext_lazy with the count named "count".
    """
    count = 0
    for obj in objects:
        try:
            action(obj)
            count += 1
        except DomainError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", level=messages.ERROR)
    if count:
        modeladmin.message_user(request, done % {"count": count}, level=messages.SUCCESS)
    return count


@admin.register(Disposition)
class DispositionAdmin(ReadOnlyAdmin):
    list_display = [
        "item",
        "recommended_outcome",
        "chosen_outcome",
        "status",
        "approval",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "approval", "chosen_outcome", "recommended_outcome"]
    search_fields = ["item__lpn"]
    list_select_related = ["item", "decided_by"]
    actions = ["approve_overrides"]

    @admin.action(description=_("Approve the selected overrides"), permissions=["supervise"])
    def approve_overrides(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=Disposition.Status.AWAITING_APPROVAL),
            lambda disposition: services.approve_override(
                disposition=disposition, user=request.user
            ),
            ngettext_lazy("%(count)s override approved.", "%(count)s overrides approved.", "count"),
        )

    def has_supervise_permission(self, request) -> bool:
        return request.user.has_perm(services.SUPERVISE)


@admin.register(RefundInstruction)
class RefundInstructionAdmin(ReadOnlyAdmin):
    list_display = [
        "item",
        "treatment",
        "price_paid",
        "fee_amount",
        "deduction_amount",
        "amount",
        "status",
    ]
    list_filter = ["status", "treatment"]
    search_fields = ["item__lpn"]
    list_select_related = ["item"]
    actions = ["export_csv"]

    @admin.action(description=_("Export released refunds as CSV (marks them exported)"))
    def export_csv(self, request, queryset):
        try:
            exported = services.export_refunds(refunds=list(queryset), user=request.user)
        except DomainError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return None
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="refunds.csv"'
        writer = csv.writer(response)
        writer.writerow(
            ["lpn", "rma", "line", "treatment", "price_paid", "fee", "deduction", "amount"]
        )
        for refund in exported:
            line = refund.rma_line
            writer.writerow(
                [
                    refund.item.lpn,
                    line.rma.number if line else "",
                    line.line_no if line else "",
                    refund.treatment,
                    refund.price_paid,
                    refund.fee_amount,
                    refund.deduction_amount,
                    refund.amount,
                ]
            )
        return response


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ["code", "partner", "outcome", "status", "opened_at", "closed_at", "weight_kg"]
    list_filter = ["status", "outcome", "partner"]
    search_fields = ["code"]
    readonly_fields = [
        "code",
        "partner",
        "outcome",
        "status",
        "opened_at",
        "closed_at",
        "closed_by",
    ]
    actions = ["close_lots"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Close the selected lots (record weights on each lot first)"))
    def close_lots(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=Lot.Status.OPEN),
            lambda lot: services.close_lot(lot=lot, user=request.user, weight_kg=lot.weight_kg),
            ngettext_lazy("%(count)s lot closed.", "%(count)s lots closed.", "count"),
        )


@admin.register(RepairOrder)
class RepairOrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "cycle", "status", "cost", "opened_at", "completed_at"]
    list_filter = ["status", "kind"]
    search_fields = ["item__lpn"]
    list_select_related = ["item"]
    readonly_fields = [
        "item",
        "disposition",
        "kind",
        "cycle",
        "status",
        "opened_at",
        "completed_at",
        "completed_by",
    ]
    actions = ["complete_orders"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Complete the selected repairs (units go back to inspection)"))
    def complete_orders(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=RepairOrder.Status.OPEN).select_related("item"),
            lambda order: services.complete_repair(
                order=order, user=request.user, notes=order.notes, cost=order.cost
            ),
            ngettext_lazy("%(count)s repair completed.", "%(count)s repairs completed.", "count"),
        )
