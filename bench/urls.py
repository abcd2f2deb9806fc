"""Two floors under the receiving scan, for bench/run.py only (served with bench.settings).

The throughput target compares a scan with a bare view that reads no session and touches no
database. These views are a clerk's POST with everything a scan does before and around its own
work: the session, login, CSRF, permission and station checks, and then (the second) one
transaction that locks one row and commits. What a scan adds on top of them is the scan itself.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from returns_desk.urls import urlpatterns as project_patterns
from returns_desk.views import RECEIVE, receiving_station_required


@require_POST
@vary_on_headers("HX-Request")
@permission_required(RECEIVE, raise_exception=True)
@receiving_station_required
def checks_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"ok {request.station.code}", content_type="text/plain")


@require_POST
@vary_on_headers("HX-Request")
@permission_required(RECEIVE, raise_exception=True)
@receiving_station_required
def one_locked_row(request: HttpRequest) -> HttpResponse:
    # The clerk's own row: each bench connection logs in as its own clerk, so no two wait on
    # each other, as no two scans of different parcels do.
    with transaction.atomic():
        clerk = get_user_model().objects.select_for_update().get(pk=request.user.pk)
    return HttpResponse(f"ok {clerk.username}", content_type="text/plain")


urlpatterns = [
    *project_patterns,
    path("bench/floor/checks/", checks_only),
    path("bench/floor/locked-row/", one_locked_row),
]
