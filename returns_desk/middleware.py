import logging

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django_htmx.http import trigger_client_event

from .configcache import cached
from .models import Station

logger = logging.getLogger(__name__)

STATION_SESSION_KEY = "station_id"


def _station_for(request):
    station_id = request.session.get(STATION_SESSION_KEY)
    if not station_id:
        return None
    return cached(
        ("station", station_id),
        lambda: Station.objects.select_related("site").filter(pk=station_id, active=True).first(),
    )


class StationMiddleware:
    """Puts the station this user works at (kept in the session) on `request.station`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.station = SimpleLazyObject(lambda: _station_for(request))
        return self.get_response(request)


# What PostgreSQL says when it aborted a transaction for another's sake: a deadlock, a
# serialization failure, a lock not granted in time. SQLite says its database is locked.
LOST_RACE_STATES = {"40P01", "40001", "55P03"}


def lost_a_race(error: BaseException) -> bool:
    """Whether a write failed only because another station's transaction held the same rows."""
    if not isinstance(error, OperationalError):
        return False
    state = getattr(error.__cause__, "sqlstate", None)
    return state in LOST_RACE_STATES or "database is locked" in str(error)


class LostRaceMiddleware:
    """A write that lost a race with another station answers 409 and says so, not a 500.

    The service's transaction has rolled back, so trying again is safe. htmx requests get no
    swap and a `requestFailed` event whose message the page shows and sounds like any error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not lost_a_race(exception):
            return None
        # Worth watching: each one is a clerk told to repeat a scan.
        logger.warning("%s %s lost a race: %s", request.method, request.path, exception)
        message = _(
            "Another station changed this at the same moment, so nothing was saved. Try again."
        )
        if request.htmx:
            response = HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")
            response["HX-Reswap"] = "none"
            # After the settle, whose handler hides the box this message is shown in.
            trigger_client_event(response, "requestFailed", {"message": message}, after="settle")
            return response
        return render(request, "returns_desk/conflict.html", {"message": message}, status=409)
