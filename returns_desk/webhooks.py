"""Delivering outbox events to webhook endpoints (run by `manage.py deliver_webhooks`).

Each delivery is an HTTP POST of a JSON body:

    {"id": "<event uuid>", "type": "unit.received", "created_at": "...", "data": {...}}

with these headers:

    X-ReturnsDesk-Event: unit.received
    X-ReturnsDesk-Event-Id: <event uuid>      (the same on every retry: deduplicate on it)
    X-ReturnsDesk-Timestamp: <unix seconds when this attempt was signed>
    X-ReturnsDesk-Signature: sha256=<hex HMAC-SHA256(endpoint secret, "<timestamp>." + body)>

A receiver recomputes the HMAC over the raw body bytes, compares in constant time, and rejects
timestamps more than a few minutes old (a replayed capture). Any 2xx is success. Anything
else (an error status, a redirect, a timeout) is retried after WEBHOOK_BACKOFF_SECONDS,
doubling each time up to WEBHOOK_BACKOFF_MAX_SECONDS, and dead-lettered after
WEBHOOK_MAX_ATTEMPTS; an admin can replay it.

Order: an endpoint gets one RMA's events (one aggregate key) strictly in order. A delivery
waits while an earlier one of its aggregate to that endpoint is not delivered, so a
dead-lettered event holds back the later ones until it is replayed. Workers claim a delivery
with a short lease (under `select_for_update(skip_locked=True)` on PostgreSQL, and a
compare-and-set everywhere), so two workers never send the same delivery at once; nothing
holds a database transaction open during the HTTP call.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import OutboxEvent, WebhookDelivery, WebhookEndpoint

Status = WebhookDelivery.Status
SIGNATURE_HEADER = "X-ReturnsDesk-Signature"
TIMESTAMP_HEADER = "X-ReturnsDesk-Timestamp"
EVENT_HEADER = "X-ReturnsDesk-Event"
EVENT_ID_HEADER = "X-ReturnsDesk-Event-Id"
FAN_OUT_BATCH = 500


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: the base delay, doubling, capped."""
    seconds = settings.WEBHOOK_BACKOFF_SECONDS * 2 ** min(attempts - 1, 30)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_BACKOFF_MAX_SECONDS))


def fan_out(now: datetime | None = None) -> int:
    """Make a delivery of each new event for every active endpoint that wants it.

    Events of the last WEBHOOK_SETTLE_SECONDS wait: an event whose transaction took a
    smaller id but commits later must not be delivered after one of its aggregate's later
    events. Returns the number of events handled.
    """
    now = now or timezone.now()
    settled = now - timedelta(seconds=settings.WEBHOOK_SETTLE_SECONDS)
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(fanned_out=False, created_at__lte=settled)
            .order_by("pk")[:FAN_OUT_BATCH]
        )
        if not events:
            return 0
        endpoints = list(WebhookEndpoint.objects.filter(active=True))
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    event=event,
                    endpoint=endpoint,
                    aggregate_key=event.aggregate_key,
                    next_attempt_at=now,
                )
                for event in events
                for endpoint in endpoints
                if endpoint.wants(event.event_type)
            ],
            ignore_conflicts=True,
        )
        OutboxEvent.objects.filter(pk__in=[event.pk for event in events]).update(fanned_out=True)
    return len(events)


def claim_next(now: datetime) -> WebhookDelivery | None:
    """Lease the next delivery that is due and first in its aggregate's line, if any."""
    earlier_undelivered = WebhookDelivery.objects.filter(
        endpoint=OuterRef("endpoint"),
        aggregate_key=OuterRef("aggregate_key"),
        event_id__lt=OuterRef("event_id"),
    ).exclude(status=Status.DELIVERED)
    due = (
        WebhookDelivery.objects.select_related("event", "endpoint")
        .filter(status=Status.PENDING, next_attempt_at__lte=now, endpoint__active=True)
        .filter(~Exists(earlier_undelivered))
        .order_by("next_attempt_at", "event_id")
    )
    return claim(due, now=now, lease=timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3))


def claim[M: Model](due: QuerySet[M], *, now: datetime, lease: timedelta) -> M | None:
    """Lease the first row of `due` that no other worker holds, if any.

    `due` is the ordered pending rows of a model with `status` and `leased_until` (webhook
    deliveries, customer e-mails); the lease ends at `now + lease`.
    """
    with transaction.atomic():
        row = (
            due.select_for_update(skip_locked=True, of=("self",))
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .first()
        )
        if row is None:
            return None
        # The compare-and-set is what makes the claim exclusive where rows are not locked.
        claimed = due.model.objects.filter(
            pk=row.pk, leased_until=row.leased_until, status=row.status
        ).update(leased_until=now + lease)
        return row if claimed else None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is a failed delivery, not a reason to POST somewhere else


_opener = urllib.request.build_opener(_NoRedirects)


def body_of(event: OutboxEvent) -> bytes:
    document = {
        "id": str(event.uuid),
        "type": event.event_type,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def send(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the delivery's event once; return (HTTP status or None, error or '')."""
    event, endpoint = delivery.event, delivery.endpoint
    body = body_of(event)
    timestamp = int(time.time())
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ReturnsDesk-Webhooks/1",
            EVENT_HEADER: event.event_type,
            EVENT_ID_HEADER: str(event.uuid),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (OSError, ValueError) as error:  # refused, timed out, DNS, a malformed URL
        return None, str(error)[:500] or error.__class__.__name__


def settle_attempt(
    row: Model,
    error: str,
    *,
    done: str,
    given_up: str,
    done_at: str,
    max_attempts: int,
    also: tuple[str, ...] = (),
) -> str:
    """Write one attempt's outcome on a leased outbox row (a webhook delivery, a customer
    e-mail) and release its lease: status `done`, stamped in `done_at`, when `error` is empty;
    otherwise due again after `backoff`, or `given_up` after `max_attempts`. `also` names
    fields the caller set. Returns the row's new status."""
    now = timezone.now()
    row.attempts += 1
    row.last_attempt_at = now
    row.leased_until = None
    if not error:
        row.status, row.last_error = done, ""
        setattr(row, done_at, now)
    else:
        row.last_error = error
        if row.attempts >= max_attempts:
            row.status = given_up
        else:
            row.next_attempt_at = now + backoff(row.attempts)
    row.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "leased_until",
            "status",
            done_at,
            "last_error",
            "next_attempt_at",
            *also,
        ]
    )
    return row.status


def attempt_due(claim_next: Callable, attempt: Callable, *, limit: int) -> Counter:
    """Claim and attempt due rows one at a time, up to `limit`; count them by their new status."""
    statuses = Counter()
    for _ in range(limit):
        row = claim_next(timezone.now())
        if row is None:
            break
        statuses[attempt(row)] += 1
    return statuses


def record_attempt(delivery: WebhookDelivery, status_code: int | None, error: str) -> str:
    """Write one delivery attempt's outcome (any 2xx is success); return the new status."""
    delivery.last_status_code = status_code
    succeeded = status_code is not None and 200 <= status_code < 300
    return settle_attempt(
        delivery,
        "" if succeeded else error or f"HTTP {status_code}",
        done=Status.DELIVERED,
        given_up=Status.DEAD,
        done_at="delivered_at",
        max_attempts=settings.WEBHOOK_MAX_ATTEMPTS,
        also=("last_status_code",),
    )


@dataclass
class Run:
    fanned_out: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


def deliver_due(*, limit: int = 100) -> Run:
    """Fan out new events, then send up to `limit` due deliveries, one at a time."""
    fanned_out = fan_out()
    statuses = attempt_due(
        claim_next, lambda delivery: record_attempt(delivery, *send(delivery)), limit=limit
    )
    return Run(
        fanned_out=fanned_out,
        delivered=statuses[Status.DELIVERED],
        retrying=statuses[Status.PENDING],
        dead=statuses[Status.DEAD],
    )


def replay(deliveries) -> int:
    """Queue deliveries again from a fresh first attempt (the admin's replay action)."""
    return deliveries.update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        leased_until=None,
        delivered_at=None,
    )
