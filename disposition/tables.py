"""Tables of the supervisor queues over inspection and disposition data (see queues.py)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from returns_desk.tables import AgeColumn, CodeColumn, QueueTable, UnitColumns, unit_columns

ItemColumns = unit_columns("item__")


class AwaitingInspectionTable(UnitColumns, QueueTable):
    queue_key = "awaiting_inspection"
    site_accessor = "station__site_id"
    age = AgeColumn(accessor="status_changed_at")

    class Meta(QueueTable.Meta):
        sequence = ("select", "age", "lpn", "sku", "rma", "program", "reason", "station")
        empty_text = gettext_lazy(
            "No units are awaiting inspection. Units appear here after a receiving clerk labels"
            " them, until an inspector scans them."
        )


class BeingInspectedTable(AwaitingInspectionTable):
    queue_key = "being_inspected"

    class Meta(AwaitingInspectionTable.Meta):
        empty_text = gettext_lazy(
            "No inspection is open. A unit appears here when an inspector scans it, until its"
            " grade is saved; one here for long was left half answered."
        )


class AwaitingDispositionTable(UnitColumns, QueueTable):
    queue_key = "awaiting_disposition"
    site_accessor = "station__site_id"
    age = AgeColumn(accessor="status_changed_at")
    # The unit's copy of its current grade, which an index sorts.
    grade = tables.Column(accessor="grade_code", verbose_name=gettext_lazy("Grade"), default="")

    class Meta(QueueTable.Meta):
        sequence = ("select", "age", "lpn", "sku", "grade", "rma", "program", "reason", "station")
        empty_text = gettext_lazy(
            "No graded units are waiting for a disposition. Units appear here once an inspector"
            " saves their grade, until a clerk confirms where they go."
        )


class ApprovalTable(ItemColumns, QueueTable):
    queue_key = "awaiting_approval"
    site_accessor = "item__station__site_id"
    age = AgeColumn(accessor="decided_at")
    grade_code = tables.Column(verbose_name=gettext_lazy("Grade"))
    recommended_outcome = tables.Column(verbose_name=gettext_lazy("Recommended"))
    chosen_outcome = tables.Column(verbose_name=gettext_lazy("Override to"))
    override_reason = tables.Column(verbose_name=gettext_lazy("Why"))
    override_note = tables.Column(verbose_name=gettext_lazy("Note"), orderable=False)
    value = tables.Column(
        accessor="item__product__unit_value",
        verbose_name=gettext_lazy("Unit value"),
        default="",
        orderable=False,
    )
    decided_by = tables.Column(accessor="decided_by__username", verbose_name=gettext_lazy("Clerk"))

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
        empty_text = gettext_lazy(
            "No overrides are awaiting approval. They appear here when a clerk overrides a"
            " recommendation that needs a supervisor (a valuable unit or a guarded outcome)."
        )


class LotTable(QueueTable):
    queue_key = "open_lots"
    cached_relations = ("partner",)
    age = AgeColumn(accessor="opened_at")
    code = CodeColumn(verbose_name=gettext_lazy("Lot"))
    partner = tables.Column(
        accessor="partner__name", verbose_name=gettext_lazy("Partner"), order_by="partner__name"
    )
    outcome = tables.Column(verbose_name=gettext_lazy("Outcome"))
    units = tables.Column(verbose_name=gettext_lazy("Units"), attrs={"td": {"class": "num"}})

    class Meta(QueueTable.Meta):
        sequence = ("select", "age", "code", "partner", "outcome", "units")
        empty_text = gettext_lazy(
            "No lot is open. A lot appears here when the first unit is decided for a partner"
            " (recycler, liquidator, vendor), and leaves when it is closed and shipped."
        )

    def render_code(self, value, record):
        url = reverse("disposition:manifest", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, value)


class RepairTable(ItemColumns, QueueTable):
    queue_key = "repairs"
    site_accessor = "item__station__site_id"
    age = AgeColumn(accessor="opened_at")
    kind = tables.Column(verbose_name=gettext_lazy("Work"))
    cycle = tables.Column(verbose_name=gettext_lazy("Cycle"), attrs={"td": {"class": "num"}})
    grade = tables.Column(accessor="grade_code", verbose_name=gettext_lazy("Grade"), default="")

    class Meta(QueueTable.Meta):
        sequence = ("select", "age", "lpn", "sku", "kind", "cycle", "grade", "...")
        exclude = ("rma", "program", "reason")
        empty_text = gettext_lazy(
            "No repairs are open. Units appear here when their disposition is repair or"
            " refurbish, until the repair is completed."
        )
