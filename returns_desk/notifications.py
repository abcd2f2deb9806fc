"""E-mail to the customer when their parcel arrives, when a refund (or store credit) is released,
and when a supervisor refuses (sends back) or writes off their parcel or a unit of it.

`services.record_event` calls `queue_customer_email` for every history event; it writes the
mail as a CustomerEmail row in the same transaction, so a change that rolls back mails nobody
and a committed one is mailed exactly once. The worker (`manage.py deliver_webhooks`) sends
what is due with `send_due`, outside any clerk's request: a mail server that is slow or down
delays the mail, not the scan. A failed attempt is retried after the webhooks' backoff
(WEBHOOK_BACKOFF_SECONDS, doubling, capped) and the mail is marked failed after
CUSTOMER_EMAIL_MAX_ATTEMPTS; an admin can send it again
(`services.resend_customer_emails`).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import CustomerEmail, ItemEvent
from .webhooks import attempt_due, claim, settle_attempt

logger = logging.getLogger(__name__)
Status = CustomerEmail.Status

# Kind (the history action that causes the mail) -> subject; its templates are
# templates/emails/<kind>.txt and .html.
EMAILS = {
    CustomerEmail.Kind.PARCEL_RECEIVED: gettext_lazy("we have received your return"),
    CustomerEmail.Kind.REFUND_RELEASED: gettext_lazy("your refund has been released"),
    CustomerEmail.Kind.RETURNED_TO_SENDER: gettext_lazy("we are sending it back to you"),
    CustomerEmail.Kind.WRITTEN_OFF: gettext_lazy("we could not accept it"),
}
STORE_CREDIT_SUBJECT = gettext_lazy("your store credit has been released")
# The refund treatments (disposition's, in the 'refund_released' event's details) that give the
# customer money back; store credit is told in its own words. A release of no refund or of a
# replacement unit tells the commerce system (webhook), not the customer: "your refund of 0.00
# has been released" is news no one should get.
MONEY_BACK = {"full", "minus_fee"}
STORE_CREDIT = "store_credit"


def refund_news(details: dict) -> str | None:
    """What a released refund is to its customer: 'refund', 'store_credit', or None."""
    if Decimal(details.get("amount") or 0) <= 0:
        return None
    treatment = details.get("treatment")
    if treatment in MONEY_BACK:
        return "refund"
    return "store_credit" if treatment == STORE_CREDIT else None


# Longer than any SMTP conversation (EMAIL_TIMEOUT bounds each step of it): a worker that dies
# mid-send lets another take the mail over after this, and none takes it over sooner.
LEASE = timedelta(minutes=5)
# How far back the supervisor's notice of undelivered mail looks: a failed mail nobody sent
# again stops being news after a week (it stays listed in the admin).
TROUBLE_WINDOW = timedelta(days=7)


def queue_customer_email(event: ItemEvent) -> CustomerEmail | None:
    """Write the mail a history event calls for, if any, in the event's transaction."""
    if event.action not in EMAILS:
        return None
    if event.action == CustomerEmail.Kind.REFUND_RELEASED and not refund_news(event.details):
        return None
    if event.details.get("with_parcel"):
        return None  # closed with its refused parcel, whose own event tells of the whole box
    if event.item is None and event.details.get("kept"):
        return None  # units of the box stay here: those leaving it are told one by one
    # The services pass the parcel or unit they locked, with what it names already loaded.
    rma = event.parcel.rma if event.parcel else event.item.rma
    if rma is None or not rma.customer_email:
        return None
    return CustomerEmail.objects.create(
        rma=rma,
        event=event,
        kind=event.action,
        recipient=rma.customer_email,
        # Rendered later by the worker, in the language it would have been written in now.
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )


def undelivered(since: timedelta = TROUBLE_WINDOW) -> dict[str, int]:
    """Customer e-mails whose last attempt (within `since`) failed: `failed` for good, and
    `retrying` (waiting for their next attempt). A supervisor should hear of them: a customer
    not told of their return calls the warehouse, and SMTP down is otherwise only in a log."""
    return CustomerEmail.objects.filter(
        Q(status=Status.FAILED) | Q(status=Status.PENDING, attempts__gt=0),
        last_attempt_at__gte=timezone.now() - since,
    ).aggregate(
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        retrying=Count("pk", filter=Q(status=Status.PENDING)),
    )


def render(email: CustomerEmail) -> EmailMultiAlternatives:
    event, rma = email.event, email.rma
    context = {
        "rma": rma,
        "event": event,
        "product": event.item.product if event.item else None,
        "amount": event.details.get("amount"),
        "store_credit": refund_news(event.details) == "store_credit",
        "track_url": settings.PUBLIC_BASE_URL.rstrip("/") + reverse("track"),
    }
    with translation.override(email.language):
        subject = _("Return %(number)s: %(subject)s") % {
            "number": rma.number,
            "subject": (STORE_CREDIT_SUBJECT if context["store_credit"] else EMAILS[email.kind]),
        }
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"emails/{email.kind}.txt", context),
            to=[email.recipient],
        )
        html = render_to_string(f"emails/{email.kind}.html", context)
    message.attach_alternative(html, "text/html")
    return message


def claim_next(now: datetime) -> CustomerEmail | None:
    """Lease the pending mail that has waited longest for its attempt, if one is due."""
    due = (
        CustomerEmail.objects.select_related("rma", "event__item__product")
        .filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
    )
    return claim(due, now=now, lease=LEASE)


def send(email: CustomerEmail) -> str:
    """Send the mail once; return the error, or '' when the mail server took it."""
    try:
        render(email).send()
    except Exception as error:
        # SMTP failures are OSErrors, but other mail backends raise their own: whatever it is,
        # the mail waits for its next attempt and the worker goes on to the next one.
        logger.warning("Customer e-mail %s not sent: %r", email.pk, error)
        return str(error)[:500] or error.__class__.__name__
    logger.info("Sent %s e-mail for %s", email.kind, email.rma.number)
    return ""


def record_attempt(email: CustomerEmail, error: str) -> str:
    """Write one attempt's outcome and release the lease; return the mail's new status."""
    return settle_attempt(
        email,
        error,
        done=Status.SENT,
        given_up=Status.FAILED,
        done_at="sent_at",
        max_attempts=settings.CUSTOMER_EMAIL_MAX_ATTEMPTS,
    )


@dataclass
class Run:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


def send_due(*, limit: int = 100) -> Run:
    """Send up to `limit` due customer e-mails, one at a time."""
    statuses = attempt_due(
        claim_next, lambda email: record_attempt(email, send(email)), limit=limit
    )
    return Run(
        sent=statuses[Status.SENT],
        retrying=statuses[Status.PENDING],
        failed=statuses[Status.FAILED],
    )
