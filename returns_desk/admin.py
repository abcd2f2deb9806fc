"""Configuration is edited here; parcels, units and their history are read-only.

Status never changes through a form: the admin shows it, the services change it.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import apikeys, imports, services, webhooks
from .models import (
    ApiKey,
    CustomerEmail,
    ImportMapping,
    ItemEvent,
    OutboxEvent,
    Parcel,
    Product,
    ProductCategory,
    Program,
    QueueSLA,
    ReasonCode,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    ReturnPolicy,
    RMALine,
    Site,
    Station,
    TrackingNumber,
    WebhookDelivery,
    WebhookEndpoint,
)
from .references import referrers
from .wording import in_sentence

IMPORT_MAX_BYTES = 10 * 2**20


class StationInline(admin.TabularInline):
    model = Station
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "time_zone"]
    inlines = [StationInline]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["code", "site", "kind", "active"]
    list_filter = ["site", "kind", "active"]


class NamedElsewhere:
    """An admin whose rows later apps' configuration may name (returns_desk.references)."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Listed as protected, the admin's delete page and bulk action refuse the delete.
        return deleted, counts, perms_needed, [*protected, *referrers(objs)]


@admin.register(Program)
class ProgramAdmin(NamedElsewhere, admin.ModelAdmin):
    list_display = ["name", "code", "kind", "active"]
    list_filter = ["kind", "active"]


@admin.register(QueueSLA)
class QueueSLAAdmin(admin.ModelAdmin):
    list_display = ["queue", "site", "hours"]
    list_filter = ["queue", "site"]


@admin.register(ReasonCode)
class ReasonCodeAdmin(NamedElsewhere, admin.ModelAdmin):
    list_display = ["name", "code", "active"]
    search_fields = ["name", "code"]


@admin.register(ProductCategory)
class ProductCategoryAdmin(NamedElsewhere, admin.ModelAdmin):
    list_display = ["name", "code"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "unit_value", "serialised"]
    list_filter = ["category", "serialised"]
    search_fields = ["sku", "gtin", "name"]


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "window_days", "restocking_fee_percent", "late_arrival", "active"]
    filter_horizontal = ["programs", "categories", "fee_waived_for"]


# Units, decisions, work orders and exceptions copy an RMA's number and program and its lines'
# reasons when they are made (the supervisor queues sort and filter on the copies). Once a parcel
# has arrived against the RMA those stay as they are, or its units would be filed wrongly.
RMA_KEPT_ONCE_ARRIVED = ("number", "program")
LINE_KEPT_ONCE_ARRIVED = ("reason",)


def _arrived(rma: ReturnAuthorization | None) -> bool:
    return rma is not None and rma.pk is not None and rma.parcels.exists()


class RMALineInline(admin.TabularInline):
    model = RMALine
    extra = 1
    autocomplete_fields = ["product"]
    readonly_fields = ["quantity_received"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, *LINE_KEPT_ONCE_ARRIVED] if _arrived(obj) else fields


class TrackingInline(admin.TabularInline):
    model = TrackingNumber
    extra = 0


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, comma- or tab-separated."))
    mapping = forms.ModelChoiceField(
        ImportMapping.objects.all(),
        label=_("Mapping"),
        required=False,
        empty_label=_("Our own columns (see the sample file)"),
        help_text=_("The source the file comes from; add one under Import mappings."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is over %(size)s MB.") % {"size": IMPORT_MAX_BYTES // 2**20}
            )
        return upload


@admin.register(ReturnAuthorization)
class ReturnAuthorizationAdmin(admin.ModelAdmin):
    list_display = ["number", "program", "customer_name", "status", "issued_on", "expires_on"]
    list_filter = ["status", "program", "channel"]
    search_fields = ["number", "order_reference", "customer_email", "tracking__number"]
    # Status and cancellation change only through the services (receiving, cancel_rma).
    readonly_fields = ["status", "cancelled_at", "cancelled_by", "cancel_reason"]
    inlines = [RMALineInline, TrackingInline]
    list_select_related = ["program"]
    change_list_template = "returns_desk/admin_rma_change_list.html"

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, *RMA_KEPT_ONCE_ARRIVED] if _arrived(obj) else fields

    def get_object(self, request, object_id, from_field=None):
        rma = super().get_object(request, object_id, from_field)
        if rma is None or request.method != "POST":
            return rma
        # The change view's transaction then holds the RMA and its lines until it saves them:
        # a unit scanned meanwhile waits, rather than its count being saved over.
        return services.lock_rma_for_edit(rma.pk)

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # A line expecting more, or fewer, or one removed changes what is still to come, and a
        # later expiry date what the customer is told: the status follows, in the admin's
        # transaction, as it follows each receipt.
        rma = services.recount_rma_receipt(rma=form.instance)
        if rma.status != form.instance.status:
            messages.info(
                request,
                gettext("RMA %(number)s is now %(status)s.")
                % {"number": rma.number, "status": in_sentence(rma.get_status_display())},
            )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_csv), name="returns_desk_rma_import"),
            path("import/sample.csv", view(self.import_sample), name="returns_desk_rma_sample"),
            *super().get_urls(),
        ]

    def _check_import_permission(self, request: HttpRequest) -> None:
        if not self.has_add_permission(request):
            raise PermissionDenied

    def import_csv(self, request: HttpRequest) -> TemplateResponse:
        """Check a CSV file (the default button) or import it, all or nothing."""
        self._check_import_permission(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            try:
                report = imports.import_rmas(
                    data=form.cleaned_data["file"].read(),
                    mapping=form.cleaned_data["mapping"],
                    dry_run="import" not in request.POST,
                )
            except imports.ImportFileError as error:
                form.add_error("file", str(error))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import RMAs from a CSV file"),
            "form": form,
            "report": report,
            "columns": imports.COLUMNS,
            "required": imports.REQUIRED,
        }
        status = 400 if form.errors or (report and not report.ok) else 200
        return TemplateResponse(request, "returns_desk/admin_import.html", context, status=status)

    def import_sample(self, request: HttpRequest) -> FileResponse:
        self._check_import_permission(request)
        return FileResponse(
            open(imports.SAMPLE_FILE, "rb"), as_attachment=True, filename="rmas.csv"
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Parcel)
class ParcelAdmin(ReadOnlyAdmin):
    list_display = ["id", "scanned_code", "rma", "station", "status", "is_late", "received_at"]
    list_filter = ["status", "is_late", "station"]
    search_fields = ["scanned_code", "rma__number"]
    list_select_related = ["rma", "station__site"]


@admin.register(ReturnItem)
class ReturnItemAdmin(ReadOnlyAdmin):
    list_display = ["lpn", "product", "serial_number", "status", "station", "received_at"]
    list_filter = ["status", "is_late"]
    search_fields = ["lpn", "serial_number", "parcel__rma__number"]
    list_select_related = ["product", "station__site"]


@admin.register(ItemEvent)
class ItemEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "item", "parcel", "from_status", "to_status", "user"]
    list_filter = ["action"]
    list_select_related = ["item", "parcel", "user"]


@admin.register(ReceivingException)
class ReceivingExceptionAdmin(ReadOnlyAdmin):
    list_display = ["raised_at", "kind", "status", "text", "station"]
    list_filter = ["kind", "status"]
    list_select_related = ["station__site"]

    @admin.display(description=_("message"))
    def text(self, exception: ReceivingException) -> str:
        return exception.text


# --- Integration ---------------------------------------------------------------------------------


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        raw = None if change else apikeys.fill_new_key(obj)
        super().save_model(request, obj, form, change)
        if raw:
            # Only the hash is stored: this message is the one time anyone sees the key.
            messages.warning(
                request,
                gettext("Copy the key for %(name)s now; it is not shown again: %(key)s")
                % {"name": obj.name, "key": raw},
            )

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("Revoked %(count)s key.", "Revoked %(count)s keys.", count) % {"count": count},
        )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active", "created_at"]
    list_filter = ["active"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "event_type", "aggregate_key", "fanned_out"]
    list_filter = ["event_type", "fanned_out"]
    search_fields = ["aggregate_key", "uuid"]


class FailingFilter(admin.SimpleListFilter):
    title = _("failures")
    parameter_name = "failing"

    def lookups(self, request, model_admin):
        return [("yes", _("Failed at least once, not delivered"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(status=WebhookDelivery.Status.DELIVERED).exclude(last_error="")
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
    ]
    list_filter = ["status", FailingFilter, "endpoint"]
    search_fields = ["aggregate_key", "event__uuid"]
    list_select_related = ["event", "endpoint"]
    actions = ["replay"]

    def has_change_permission(self, request, obj=None):
        # Needed by the replay action; the form itself stays read-only (no editable fields).
        return request.user.has_perm("returns_desk.change_webhookdelivery")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.action(description=_("Replay the selected deliveries"), permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = webhooks.replay(queryset)
        self.message_user(
            request,
            ngettext(
                "Queued %(count)s delivery again.", "Queued %(count)s deliveries again.", count
            )
            % {"count": count},
        )


@admin.register(CustomerEmail)
class CustomerEmailAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "rma",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["rma__number", "recipient"]
    list_select_related = ["rma"]
    actions = ["send_again"]

    def has_change_permission(self, request, obj=None):
        # Needed by the send-again action; the form itself stays read-only (no editable fields).
        return request.user.has_perm("returns_desk.change_customeremail")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.action(description=_("Send again (failed ones)"), permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.resend_customer_emails(emails=queryset, user=request.user)
        skipped = queryset.count() - count
        said = ngettext(
            "Queued %(count)s failed e-mail again; the worker sends it on its next round.",
            "Queued %(count)s failed e-mails again; the worker sends them on its next round.",
            count,
        ) % {"count": count}
        if skipped:
            left = ngettext(
                "%(count)s not failed was left as it is.",
                "%(count)s not failed were left as they are.",
                skipped,
            ) % {"count": skipped}
            said = f"{said} {left}"
        self.message_user(request, said)


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ["name", "default_program", "default_channel", "create_unknown_products"]
