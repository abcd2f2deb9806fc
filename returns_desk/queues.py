"""Supervisor queues: what each one is, the registry the screens list, SLAs, counts and CSV.

The core registers the queue over its own data (exceptions, see supervisor_views); later apps
register theirs from their AppConfig.ready, so the core's queue screens serve every queue
without importing those apps.
"""

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django_tables2.rows import BoundRow

from .exceptions import DomainError
from .models import QueueSLA, Station

CSV_CHUNK = 2000
# Navigation counts stop here: a supervisor needs "a lot", not an exact COUNT(*) of a million.
COUNT_LIMIT = 999


@dataclass(frozen=True)
class BulkAction:
    """An action a supervisor applies to the selected rows, one service call per row.

    `run(row, user=, note=, station=)` raises a DomainError to refuse a row.
    """

    name: str
    label: str
    run: Callable[..., object]
    note_required: bool = True


@dataclass(frozen=True)
class Queue:
    key: str  # a QueueSLA.Queue value, so an admin can set its SLA
    queryset: Callable[[], QuerySet]
    table: type
    filterset: type
    actions: tuple[BulkAction, ...] = field(default=())

    @property
    def title(self) -> str:
        return QueueSLA.Queue(self.key).label

    def action(self, name: str) -> BulkAction | None:
        return next((action for action in self.actions if action.name == name), None)


QUEUES: dict[str, Queue] = {}


def register(queue: Queue) -> None:
    QUEUES[queue.key] = queue


def registered() -> list[Queue]:
    """The registered queues in the order of the workflow (QueueSLA.Queue's order)."""
    return [QUEUES[key] for key in QueueSLA.Queue.values if key in QUEUES]


def sla_hours(queue_key: str) -> dict[int | None, int]:
    """Hours per site id for a queue; key None is the target for sites without their own."""
    return dict(QueueSLA.objects.filter(queue=queue_key).values_list("site_id", "hours"))


def is_late(since: datetime | None, site_id: int | None, sla: dict, now: datetime) -> bool:
    hours = sla.get(site_id, sla.get(None))
    return since is not None and hours is not None and now - since > timedelta(hours=hours)


def bounded_count(queryset: QuerySet, limit: int = COUNT_LIMIT) -> str:
    """The number of rows as text, "999+" beyond the limit; one bounded query."""
    count = queryset.order_by().values("pk")[: limit + 1].count()
    return f"{limit}+" if count > limit else str(count)


def navigation(active: str = "") -> list[dict]:
    """Each queue with its (bounded) count, for the supervisor's navigation."""
    return [
        {"queue": queue, "count": bounded_count(queue.queryset()), "active": queue.key == active}
        for queue in registered()
    ]


class _Echo:
    """A file-like object whose write hands the line back, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(table_class: type, queryset: QuerySet) -> Iterator[str]:
    """The queue's rows as CSV lines, read from the database in chunks (never all at once).

    Columns and values are the table's own (its value_* methods), minus those excluded from
    export.
    """
    table = table_class(data=[])
    columns = [
        column
        for column in table.columns.iterall()
        if not column.column.exclude_from_export and column.name not in table.exclude
    ]
    writer = csv.writer(_Echo())
    yield writer.writerow([str(column.header) for column in columns])
    for record in queryset.iterator(chunk_size=CSV_CHUNK):
        row = BoundRow(record, table=table)
        yield writer.writerow(
            ["" if (v := row.get_cell_value(c.name)) is None else v for c in columns]
        )


def run_bulk(
    action: BulkAction,
    rows: list,
    *,
    user: AbstractBaseUser,
    note: str,
    station: Station | None,
) -> tuple[int, list[str]]:
    """Apply an action to each row in its own transaction; return (done, refusals).

    One refused row (resolved meanwhile by someone else, say) does not undo the others.
    """
    done, refusals = 0, []
    for row in rows:
        try:
            action.run(row, user=user, note=note, station=station)
        except DomainError as error:
            refusals.append(error.message)
        else:
            done += 1
    return done, refusals
