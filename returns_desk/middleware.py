from django.utils.functional import SimpleLazyObject

from .configcache import cached
from .models import Station

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
