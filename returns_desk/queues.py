"""Supervisor queues: what each one is, the registry the screens list, SLAs, counts and CSV.

The core registers the queue over its own data (exceptions, see supervisor_views); later apps
register theirs from their AppConfig.ready, so the core's queue screens serve every queue
without importing those apps.
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import QuerySet
from django_tables2 import A, Column
from django_tables2 import utils as tables_utils

from .configcache import cached
from .exceptions import DomainError
from .models import QueueSLA, Station
from .replica import reports_database

CSV_CHUNK = 2000
# Navigation counts stop here: a supervisor needs "a lot", not an exact COUNT(*) of a million.
COUNT_LIMIT = 999


# django-tables2 asks inspect.signature() which arguments a column's render method takes for
# every cell it renders (450 times for a page of 50 rows: a fifth of the page's time). A
# function's signature never changes, so the answer is kept per function; bounded, should
# callables be made per request.
_signatures: dict = {}
_uncached_signature = tables_utils.signature


def signature(function) -> tuple:
    key = (getattr(function, "__func__", function), hasattr(function, "__self__"))
    if key not in _signatures:
        if len(_signatures) >= 1000:
            _signatures.clear()
        _signatures[key] = _uncached_signature(function)
    return _signatures[key]


tables_utils.signature = signature


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
    return cached(
        ("sla", queue_key),
        lambda: dict(QueueSLA.objects.filter(queue=queue_key).values_list("site_id", "hours")),
    )


def is_late(since: datetime | None, site_id: int | None, sla: dict, now: datetime) -> bool:
    hours = sla.get(site_id, sla.get(None))
    return since is not None and hours is not None and now - since > timedelta(hours=hours)


def bounded_counts(querysets: list[QuerySet], limit: int = COUNT_LIMIT) -> list[str]:
    """The number of rows of each queryset as text, "999+" beyond the limit; one query.

    Every supervisor page shows every queue's count: one round trip for them all, not one each.
    """
    parts, params = [], []
    for queryset in querysets:
        sql, bound = queryset.order_by().values("pk")[: limit + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS bounded)")
        params.extend(bound)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        counts = cursor.fetchone()
    return [f"{limit}+" if count > limit else str(count) for count in counts]


def navigation(active: str = "") -> list[dict]:
    """Each queue with its (bounded) count, for the supervisor's navigation."""
    listed = registered()
    counts = bounded_counts([queue.queryset() for queue in listed])
    return [
        {"queue": queue, "count": count, "active": queue.key == active}
        for queue, count in zip(listed, counts, strict=True)
    ]


class _Echo:
    """A file-like object whose write hands the line back, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(table, bound_column) -> Callable[[object], object]:
    """How a stored value reads in the CSV: as django-tables2 exports it, worked out once.

    Like BoundRow.get_cell_value: a choice reads as its label, an empty value as an empty cell,
    and the column's own value method (or the table's value_<name>) has the last word.
    """
    column = bound_column.column
    field = A(bound_column.accessor).get_field(table.data.model)
    labels = (
        {key: str(label) for key, label in field.flatchoices} if field and field.choices else None
    )
    own = getattr(table, f"value_{bound_column.name}", None)
    method = own or (column.value if type(column).value is not Column.value else None)
    if method:
        names, catch_all = signature(method)
        if "record" in names or "bound_row" in names or catch_all:
            raise TypeError(f"{method!r}: a CSV cell has no record, only its value.")
        fixed = {"table": table, "column": column, "bound_column": bound_column}
        fixed = {name: fixed[name] for name in names if name != "value"}

    def cell(value):
        if labels is not None:
            value = labels.get(value, value)
        if value in column.empty_values:
            return ""
        if method:
            value = method(value=value, **fixed)
        return "" if value is None else value

    return cell


def csv_lines(table_class: type, queryset: QuerySet) -> Iterator[str]:
    """The queue's rows, in the queryset's order, as CSV lines read in chunks of plain values.

    Columns, headers and values are the table's own (minus those excluded from export), but
    each row is a tuple from values_list formatted by functions worked out once per column, not
    a model instance rendered cell by cell: tens of thousands of rows a second instead of a
    thousand, so a million-row queue streams within minutes. It reads the replica when there is
    one: a report that runs for minutes takes nothing from the stations.
    """
    table = table_class(data=queryset)
    columns = [
        column
        for column in table.columns.iterall()
        if not column.column.exclude_from_export and column.name not in table.exclude
    ]
    cells = [_csv_cell(table, column) for column in columns]
    rows = queryset.using(reports_database()).values_list(*(c.accessor for c in columns))
    yield from csv_stream(
        [str(column.header) for column in columns],
        (
            [cell(value) for cell, value in zip(cells, row, strict=True)]
            for row in rows.iterator(chunk_size=CSV_CHUNK)
        ),
    )


def csv_stream(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """A header and rows as CSV lines made one at a time, for a StreamingHttpResponse."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


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
