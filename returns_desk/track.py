"""The public page where a customer follows their return: RMA number + e-mail -> timeline.

It answers a wrong number and a wrong e-mail in the same words and status, shows no staff,
stations, grades or money, and limits lookups per client address and per RMA number, so it
cannot be used to find out which RMA numbers exist or to guess a customer's e-mail.
"""

import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from .models import ItemEvent, ReturnAuthorization, ReturnItem
from .notifications import refund_news
from .scanning import canonical

# History action -> what the customer reads; every other action stays inside the warehouse.
CUSTOMER_WORDS = {
    "parcel_received": _("We received your parcel."),
    "received": _("We checked in {product}."),
    "inspected": _("We inspected {product}."),
    "refund_released": _("Your refund for {product} has been released."),
    "returned_to_sender": _("We could not accept {product} and are sending it back to you."),
    "written_off": _("We could not accept {product}, and it will not be sent back to you."),
}
# The same actions recorded on a whole parcel a supervisor refused or wrote off.
PARCEL_WORDS = {
    "returned_to_sender": _("We could not accept your parcel and are sending it back to you."),
    "written_off": _("We could not accept your parcel, and it will not be sent back to you."),
}
STORE_CREDIT_WORDS = _("Store credit for {product} has been released.")
TIMELINE_MAX = 200
STATUS_WORDS = {
    ReturnAuthorization.Status.AUTHORISED: _("We are expecting your parcel."),
    ReturnAuthorization.Status.PARTIALLY_RECEIVED: _("We have received part of your return."),
    ReturnAuthorization.Status.RECEIVED: _("We have received everything in your return."),
    ReturnAuthorization.Status.CLOSED: _("Your return is complete."),
    ReturnAuthorization.Status.CANCELLED: _("This return was cancelled."),
    ReturnAuthorization.Status.EXPIRED: _("The time to send this return has passed."),
}


class TrackForm(forms.Form):
    number = forms.CharField(label=_("Return number"), max_length=40)
    email = forms.EmailField(label=_("E-mail address"), max_length=254)


def client_address(request: HttpRequest) -> str:
    # Behind a proxy every request comes from the proxy: name the header it writes the
    # client into (TRACK_CLIENT_IP_HEADER), and take the address it appended last.
    if header := settings.TRACK_CLIENT_IP_HEADER:
        forwarded = request.META.get(header, "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


def _over_limit(scope: str, value: str, limit: int) -> bool:
    """Count one lookup against `value`; True once it has had `limit` in the window."""
    key = f"track:{scope}:{hashlib.sha256(value.encode()).hexdigest()}"
    cache.add(key, 0, timeout=settings.TRACK_RATE_WINDOW_SECONDS)
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr: this lookup is the window's first
        cache.add(key, 1, timeout=settings.TRACK_RATE_WINDOW_SECONDS)
        return False


def timeline(rma: ReturnAuthorization) -> list[dict]:
    # The RMA's units by their own lines (and held units, which have none, by their parcel):
    # a parcel linked to another RMA after some units were received keeps those on theirs.
    units = ReturnItem.objects.filter(
        Q(rma_line__rma=rma) | Q(rma_line__isnull=True, parcel__rma=rma)
    ).values("pk")
    events = (
        ItemEvent.objects.filter(
            Q(parcel__rma=rma, item__isnull=True) | Q(item__in=units), action__in=CUSTOMER_WORDS
        )
        .select_related("item__product")
        .order_by("created_at", "pk")[:TIMELINE_MAX]
    )
    lines = []
    for event in events:
        words = CUSTOMER_WORDS[event.action]
        if event.item_id is None and event.action in PARCEL_WORDS:
            # Units of it already past receiving stayed in the building and go on (inspected,
            # refunded): the box was not sent back whole, and each unit that was says so.
            if event.details.get("kept"):
                continue
            words = PARCEL_WORDS[event.action]
        if event.action == "refund_released":
            news = refund_news(event.details)
            if news is None:
                continue
            words = STORE_CREDIT_WORDS if news == "store_credit" else words
        product = event.item.product if event.item else None
        lines.append(
            {
                "at": event.created_at,
                "words": words.format(product=product.name if product else gettext("an item")),
            }
        )
    return lines


@login_not_required
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "returns_desk/track.html", {"form": form}, status=status)
    number = canonical(form.cleaned_data["number"])
    limited = _over_limit("ip", client_address(request), settings.TRACK_RATE_PER_IP)
    # Counted even when the address is limited, so spreading guesses over many addresses
    # still runs into the per-RMA limit.
    limited |= _over_limit("rma", number, settings.TRACK_RATE_PER_RMA)
    if limited:
        context = {"form": form, "limited": True}
        return render(request, "returns_desk/track.html", context, status=429)
    rma = ReturnAuthorization.objects.filter(
        number=number, customer_email__iexact=form.cleaned_data["email"]
    ).first()
    if rma is None:
        context = {"form": form, "not_found": True}
        return render(request, "returns_desk/track.html", context, status=404)
    context = {
        "form": TrackForm(),
        "rma": rma,
        "status_words": STATUS_WORDS[rma.status],
        "timeline": timeline(rma),
    }
    return render(request, "returns_desk/track.html", context)
