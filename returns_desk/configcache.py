"""Configuration every station request reads, kept in each process until an admin changes it.

Stations, roles and permissions, checklists, grade scales, disposition rules and settings change
a few times a day, yet reading them made up most of a station request's queries. Each process
keeps what it computed from them under a token: saving or deleting a model registered with
`watch` (or changing its many-to-many links) writes a new token in the same transaction, and a
request reads the token once, on its first cached read. A request that starts after the change
commits therefore never sees the old configuration, in any process; one already running sees
what it would have seen had it run a moment earlier, as it would without a cache.

The token is random, never a count: a transaction that wrote one and rolled back (after
caching under it) leaves a token no later change can write again. Changes made without model
signals (queryset.update, bulk_create, raw SQL) must call `changed()` themselves.
"""

import pickle
import secrets
from collections.abc import Callable, Hashable
from contextvars import ContextVar

from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import Counter

TOKEN = "config"
# What was computed under one token, pickled so a request never alters what the next one
# reads; a new token starts it afresh, so it never holds more than one configuration.
_store: dict = {"token": None, "values": {}}
# The token of the request running in this thread; None outside a request (read every time).
_request_token: ContextVar[dict | None] = ContextVar("config_token", default=None)
_MISSING = object()


def _read_token() -> int:
    # Nearly every request reads this row: a plain statement, as building it through the ORM
    # cost several times the round trip itself.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {Counter._meta.db_table} WHERE name = %s", [TOKEN])
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    counter, _ = Counter.objects.get_or_create(name=TOKEN, defaults={"value": secrets.randbits(62)})
    return counter.value


def token() -> int:
    memo = _request_token.get()
    if memo is None:
        return _read_token()
    if "token" not in memo:
        memo["token"] = _read_token()
    return memo["token"]


def cached[T](key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` as of the current configuration; computed once per process per change."""
    current = token()
    if _store["token"] != current:
        _store.update(token=current, values={})
    values = _store["values"]
    pickled = values.get(key, _MISSING)
    if pickled is not _MISSING:
        return pickle.loads(pickled)
    value = compute()
    # A request still on the old token must not file its result under the new one.
    if _store["token"] == current:
        values[key] = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    return value


def changed(**kwargs) -> None:
    """Make every process compute configuration afresh (a signal receiver, or call it)."""
    updated = Counter.objects.filter(name=TOKEN).update(value=secrets.randbits(62))
    if not updated:
        Counter.objects.get_or_create(name=TOKEN, defaults={"value": secrets.randbits(62)})
    memo = _request_token.get()
    if memo is not None:
        memo.pop("token", None)


def watch(*models) -> None:
    """Invalidate cached configuration whenever one of `models` or its m2m links changes."""
    for model in models:
        uid = f"configcache:{model._meta.label}"
        post_save.connect(changed, sender=model, dispatch_uid=f"{uid}:save", weak=False)
        post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}:delete", weak=False)
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                _links_changed,
                sender=field.remote_field.through,
                dispatch_uid=f"{uid}:{field.name}",
                weak=False,
            )


def _links_changed(action: str, **kwargs) -> None:
    if action.startswith("post_"):
        changed()


def clear() -> None:
    """Forget everything cached in this process (tests start from a clean slate)."""
    _store.update(token=None, values={})


class ConfigTokenMiddleware:
    """Reads the configuration token at most once per request, on its first cached read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reset = _request_token.set({})
        try:
            return self.get_response(request)
        finally:
            _request_token.reset(reset)
