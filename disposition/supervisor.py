"""Supervisor screens over every app's data: the dashboard and a unit's timeline.

The core's supervisor screens (queues, exceptions, RMAs, search) link here by URL name.
"""

from datetime import timedelta

from django.contrib.auth.decorators import permission_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from inspection.models import Answer, Inspection
from returns_desk import notifications
from returns_desk.models import ReceivingException, ReturnItem
from returns_desk.scanning import canonical
from returns_desk.services import site_today
from returns_desk.supervisor_views import SUPERVISE, supervisor_context

from . import dashboard as figures
from .forms import DashboardForm
from .models import Disposition, RefundInstruction, RepairOrder

supervisor_required = permission_required(SUPERVISE, raise_exception=True)


@require_GET
@supervisor_required
def dashboard(request: HttpRequest) -> HttpResponse:
    # The supervisor's own site's today, where a station is chosen: at 23:30 in London it is
    # already tomorrow in a site further east, whose supervisor expects tomorrow's figures.
    station = request.station or None
    today = site_today(station) if station else timezone.localdate()
    form = DashboardForm(request.GET or {"since": today - timedelta(days=6), "until": today})
    context = {"form": form, "undelivered": notifications.undelivered(), **supervisor_context()}
    if not form.is_valid():
        return render(request, "disposition/dashboard.html", context, status=400)
    period = figures.Period(**form.cleaned_data)
    data = figures.figures(period)
    context |= {"period": period, "data": data, "charts": figures.charts(data)}
    return render(request, "disposition/dashboard.html", context)


@require_GET
@supervisor_required
def unit(request: HttpRequest, lpn: str) -> HttpResponse:
    """A unit's whole story: every event (who, where, when), grades, decisions, refund, lot."""
    item = get_object_or_404(
        ReturnItem.objects.select_related(
            "product__category",
            "rma_line__rma__program",
            "rma_line__reason",
            "parcel",
            "station__site",
            "received_by",
        ),
        lpn=canonical(lpn),
    )
    context = {
        "item": item,
        "events": item.events.select_related("user", "station").order_by("created_at", "pk"),
        "inspections": Inspection.objects.filter(item=item)
        .select_related("inspector", "station")
        .prefetch_related(
            Prefetch("answers", queryset=Answer.objects.order_by("order", "pk")), "photos"
        )
        .order_by("started_at", "pk"),
        "dispositions": Disposition.objects.filter(item=item)
        .select_related("partner", "lot", "decided_by", "approved_by")
        .order_by("decided_at", "pk"),
        "refund": RefundInstruction.objects.filter(item=item).first(),
        "repairs": RepairOrder.objects.filter(item=item).order_by("opened_at"),
        "exceptions": ReceivingException.objects.filter(item=item).order_by("raised_at"),
        **supervisor_context(),
    }
    return render(request, "disposition/unit.html", context)
