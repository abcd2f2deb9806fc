"""Tables of the supervisor queues over inspection and disposition data (see queues.py)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from returns_desk.tables import AgeColumn, LinkColumn, QueueTable


def unit_columns(prefix: str = "") -> type[tables.Table]:
    """A mixin of the columns naming a unit reached through `prefix` (e.g. "item__")."""

    class UnitColumns(tables.Table):
        lpn = LinkColumn(
            "supervisor:unit", accessor=f"{prefix}lpn", verbose_name="LPN", order_by=f"{prefix}lpn"
        )
        sku = tables.Column(
            accessor=f"{prefix}product__sku", verbose_name="SKU", default="", orderable=False
        )
        rma = LinkColumn(
            "supervisor:rma",
            accessor=f"{prefix}rma_line__rma__number",
            verbose_name="RMA",
            default="",
            orderable=False,
        )
        program = tables.Column(
            accessor=f"{prefix}rma_line__rma__program__name",
            verbose_name="Program",
            default="",
            orderable=False,
        )
        reason = tables.Column(
            accessor=f"{prefix}rma_line__reason__name",
            verbose_name="Reason",
            default="",
            orderable=False,
        )
        station = tables.Column(
            accessor=f"{prefix}station__code",
            verbose_name="Station",
            order_by=f"{prefix}station__code",
        )

    return UnitColumns


UnitColumns, ItemColumns = unit_columns(), unit_columns("item__")


class AwaitingInspectionTable(UnitColumns, QueueTable):
    queue_key = "awaiting_inspection"
    site_accessor = "station__site_id"
    age = AgeColumn(accessor="status_changed_at")

    class Meta(QueueTable.Meta):
        sequence = ("select", "age", "lpn", "sku", "rma", "program", "reason", "station")


class AwaitingDispositionTable(UnitColumns, QueueTable):
    queue_key = "awaiting_disposition"
    site_accessor = "station__site_id"
    age = AgeColumn(accessor="status_changed_at")
    grade = tables.Column(default="")

    class Meta(QueueTable.Meta):
        sequence = ("select", "age", "lpn", "sku", "grade", "rma", "program", "reason", "station")


class ApprovalTable(ItemColumns, QueueTable):
    queue_key = "awaiting_approval"
    site_accessor = "item__station__site_id"
    age = AgeColumn(accessor="decided_at")
    grade_code = tables.Column(verbose_name="Grade")
    recommended_outcome = tables.Column(verbose_name="Recommended")
    chosen_outcome = tables.Column(verbose_name="Override to")
    override_reason = tables.Column(verbose_name="Why")
    override_note = tables.Column(verbose_name="Note", orderable=False)
    value = tables.Column(
        accessor="item__product__unit_value", verbose_name="Unit value", default="", orderable=False
    )
    decided_by = tables.Column(accessor="decided_by__username", verbose_name="Clerk")

    class Meta(QueueTable.Meta):
        sequence = (
            "select",
            "age",
            "lpn",
            "sku",
            "grade_code",
            "recommended_outcome",
            "chosen_outcome",
            "override_reason",
            "override_note",
            "value",
            "decided_by",
            "station",
            "...",
        )
        exclude = ("rma", "program", "reason")


class LotTable(QueueTable):
    queue_key = "open_lots"
    age = AgeColumn(accessor="opened_at")
    code = tables.Column(verbose_name="Lot")
    partner = tables.Column(accessor="partner__name", order_by="partner__name")
    outcome = tables.Column()
    units = tables.Column(verbose_name="Units", attrs={"td": {"class": "num"}})

    class Meta(QueueTable.Meta):
        sequence = ("select", "age", "code", "partner", "outcome", "units")

    def render_code(self, value, record):
        url = reverse("disposition:manifest", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, value)


class RepairTable(ItemColumns, QueueTable):
    queue_key = "repairs"
    site_accessor = "item__station__site_id"
    age = AgeColumn(accessor="opened_at")
    kind = tables.Column(verbose_name="Work")
    cycle = tables.Column(attrs={"td": {"class": "num"}})
    grade = tables.Column(accessor="disposition__grade_code", verbose_name="Grade", default="")

    class Meta(QueueTable.Meta):
        sequence = ("select", "age", "lpn", "sku", "kind", "cycle", "grade", "...")
        exclude = ("rma", "program", "reason")
