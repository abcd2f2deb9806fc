"""E-mail to the customer when their parcel arrives and when a refund is released.

`services.record_event` calls `notify_customer` for every history event; the mail goes out
after the commit (never for a change that rolled back), and a mail server that is down is
logged, not turned into an error for the clerk who scanned the parcel.
"""

import logging
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ItemEvent

logger = logging.getLogger(__name__)

# History action -> (template name under templates/emails/, subject).
EMAILS = {
    "parcel_received": ("parcel_received", gettext_lazy("we have received your return")),
    "refund_released": ("refund_released", gettext_lazy("your refund has been released")),
}


def notify_customer(event: ItemEvent) -> None:
    if event.action in EMAILS:
        transaction.on_commit(partial(send_customer_email, event), robust=True)


def send_customer_email(event: ItemEvent) -> None:
    # The event as its service wrote it, with the rows it locked: after the commit they are
    # what the customer is told, and reading them again would cost the clerk's request a query.
    rma = (event.parcel or event.item.parcel).rma
    if rma is None or not rma.customer_email:
        return
    template, subject = EMAILS[event.action]
    context = {
        "rma": rma,
        "product": event.item.product if event.item else None,
        "amount": event.details.get("amount"),
        "track_url": settings.PUBLIC_BASE_URL.rstrip("/") + reverse("track"),
    }
    message = EmailMultiAlternatives(
        subject=_("Return %(number)s: %(subject)s") % {"number": rma.number, "subject": subject},
        body=render_to_string(f"emails/{template}.txt", context),
        to=[rma.customer_email],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    message.send()
    logger.info("Sent %s e-mail for %s", template, rma.number)
