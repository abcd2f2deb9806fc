"""Reports read from a streaming replica of PostgreSQL when `DATABASE_REPLICA_URL` names one.

A queue's CSV export at a large site reads hundreds of thousands of rows for minutes, and
`check_integrity` reads every unit and event; on a replica they take nothing from the stations
scanning on the primary. Everything else reads where it writes: a page shown after an action must
show that action, and a replica can trail the primary by a moment. Without a replica, reports
read the primary like everything else.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_reports_read_from: ContextVar[str | None] = ContextVar("reports_read_from", default=None)


def reports_database() -> str:
    """The alias reports read from: the replica when one is configured."""
    return REPLICA if REPLICA in connections.settings else DEFAULT_DB_ALIAS


@contextmanager
def reading_reports() -> Iterator[None]:
    """Every ORM read inside goes to reports_database(); writes still go to the primary.

    For work that runs start to end in one call (a management command). A streaming response's
    rows are read after the view has returned, outside any block: its queryset names the
    database itself (`.using(reports_database())`).
    """
    token = _reports_read_from.set(reports_database())
    try:
        yield
    finally:
        _reports_read_from.reset(token)


class ReportsRouter:
    """Routes reads inside reading_reports(); everything else goes where Django would send it."""

    def db_for_read(self, model, **hints) -> str | None:
        return _reports_read_from.get()
