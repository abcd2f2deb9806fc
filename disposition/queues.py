"""The supervisor queues over inspection and disposition data, registered with the core's.

Registered from DispositionConfig.ready, so the core's queue screens list them without
importing this app.
"""

from django.utils.translation import gettext_lazy

from returns_desk import queues
from returns_desk.models import ReturnItem

from . import services
from .filters import (
    ApprovalFilterSet,
    AwaitingDispositionFilterSet,
    AwaitingInspectionFilterSet,
    LotFilterSet,
    RepairFilterSet,
)
from .models import Disposition, Lot, RepairOrder
from .tables import (
    ApprovalTable,
    AwaitingDispositionTable,
    AwaitingInspectionTable,
    BeingInspectedTable,
    LotTable,
    RepairTable,
)

# The rows' own relations are joined; configuration (stations, programs, reasons) comes from the
# cache (the tables' cached_relations).
UNIT_RELATED = ("product", "rma_line__rma")
ITEM_RELATED = tuple(f"item__{path}" for path in UNIT_RELATED)


# Every queue lists the longest-waiting first, unless the supervisor sorts otherwise.


# A unit a supervisor reopened keeps its decision until it is decided again (which retires it):
# meanwhile it waits for a disposition, not for the bench.
STILL_DECIDED = {"item__status__in": (ReturnItem.Status.DISPOSED, ReturnItem.Status.IN_REPAIR)}


def units_in(status: str):
    return (
        ReturnItem.objects.filter(status=status)
        .select_related(*UNIT_RELATED)
        .order_by("status_changed_at", "pk")
    )


def awaiting_approval():
    return (
        # A reopened unit's override stays listed until the unit is decided again (approving
        # it is refused, saying why): left out by its unit's status, the count every supervisor
        # page shows cost 20 ms at a million units (a join over every waiting override).
        Disposition.objects.filter(status=Disposition.Status.AWAITING_APPROVAL)
        .select_related(*ITEM_RELATED, "decided_by")
        .order_by("decided_at", "pk")
    )


def open_lots():
    return Lot.objects.filter(status=Lot.Status.OPEN).order_by("opened_at", "pk")


def open_repairs():
    return (
        RepairOrder.objects.filter(status=RepairOrder.Status.OPEN, **STILL_DECIDED)
        .select_related(*ITEM_RELATED, "disposition")
        .order_by("opened_at", "pk")
    )


def _approve(disposition, *, user, note, station):
    services.approve_override(disposition=disposition, user=user, note=note, station=station)


def _reject(disposition, *, user, note, station):
    services.reject_override(disposition=disposition, user=user, note=note, station=station)


def _close(lot, *, user, note, station):
    services.close_lot(lot=lot, user=user, weight_kg=None, notes=note, station=station)


QUEUES = (
    queues.Queue(
        key="awaiting_inspection",
        queryset=lambda: units_in(ReturnItem.Status.RECEIVED),
        table=AwaitingInspectionTable,
        filterset=AwaitingInspectionFilterSet,
    ),
    # Its own queue, not part of the one above: one list over both statuses could not be read
    # in age order from an index, and sorting 100,000 waiting units made every page slow.
    queues.Queue(
        key="being_inspected",
        queryset=lambda: units_in(ReturnItem.Status.INSPECTING),
        table=BeingInspectedTable,
        filterset=AwaitingInspectionFilterSet,
    ),
    queues.Queue(
        key="awaiting_disposition",
        queryset=lambda: units_in(ReturnItem.Status.INSPECTED),
        table=AwaitingDispositionTable,
        filterset=AwaitingDispositionFilterSet,
    ),
    queues.Queue(
        key="awaiting_approval",
        queryset=awaiting_approval,
        table=ApprovalTable,
        filterset=ApprovalFilterSet,
        actions=(
            queues.BulkAction("approve", gettext_lazy("Approve"), _approve, note_required=False),
            queues.BulkAction("reject", gettext_lazy("Reject"), _reject),
        ),
    ),
    queues.Queue(
        key="open_lots",
        queryset=open_lots,
        table=LotTable,
        filterset=LotFilterSet,
        actions=(
            queues.BulkAction("close", gettext_lazy("Close and ship"), _close, note_required=False),
        ),
    ),
    queues.Queue(
        key="repairs", queryset=open_repairs, table=RepairTable, filterset=RepairFilterSet
    ),
)


def register() -> None:
    for queue in QUEUES:
        queues.register(queue)
