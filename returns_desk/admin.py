"""Configuration is edited here; parcels, units and their history are read-only.

Status never changes through a form: the admin shows it, the services change it.
"""

from django.contrib import admin

from .models import (
    ItemEvent,
    Parcel,
    Product,
    ProductCategory,
    Program,
    ReasonCode,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    ReturnPolicy,
    RMALine,
    Site,
    Station,
    TrackingNumber,
)


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


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "active"]
    list_filter = ["kind", "active"]


@admin.register(ReasonCode)
class ReasonCodeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "active"]
    search_fields = ["name", "code"]


@admin.register(ProductCategory)
class ProductCategoryAdmin(admin.ModelAdmin):
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


class RMALineInline(admin.TabularInline):
    model = RMALine
    extra = 1
    autocomplete_fields = ["product"]
    readonly_fields = ["quantity_received"]


class TrackingInline(admin.TabularInline):
    model = TrackingNumber
    extra = 0


@admin.register(ReturnAuthorization)
class ReturnAuthorizationAdmin(admin.ModelAdmin):
    list_display = ["number", "program", "customer_name", "status", "issued_on", "expires_on"]
    list_filter = ["status", "program", "channel"]
    search_fields = ["number", "order_reference", "customer_email", "tracking__number"]
    readonly_fields = ["status"]
    inlines = [RMALineInline, TrackingInline]
    list_select_related = ["program"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Parcel)
class ParcelAdmin(ReadOnlyAdmin):
    list_display = ["pk", "scanned_code", "rma", "station", "status", "is_late", "received_at"]
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
    list_display = ["raised_at", "kind", "status", "message", "station"]
    list_filter = ["kind", "status"]
    list_select_related = ["station__site"]
