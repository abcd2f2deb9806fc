"""Views that act at a station: the one check every station screen makes before it acts."""

from collections.abc import Callable
from datetime import datetime
from functools import wraps

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Station properties a screen may require, and how the refusal names the station it wants.
CAPABILITIES = {
    "can_receive": gettext_lazy(
        "%(code)s is not a receiving station. Click the station badge to choose another."
    ),
    "can_inspect": gettext_lazy(
        "%(code)s is not an inspection station. Click the station badge to choose another."
    ),
}


def station_required(capability: str, *, refuse: Callable[[HttpRequest, str], HttpResponse]):
    """Let the view act only at a station with `capability` (a Station property, e.g. can_receive).

    Without one, a GET goes to the station picker and comes back; anything else is answered by
    `refuse(request, message)`, which renders the screen's own error (a 403) so the clerk sees it.
    """
    wanted = CAPABILITIES[capability]

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            station = request.station
            if station and getattr(station, capability):
                return view(request, *args, **kwargs)
            if request.method == "GET":
                return redirect(f"{reverse('station')}?next={request.path}")
            if station:
                message = wanted % {"code": station.code}
            else:
                message = _("Choose a station first. Click 'No station' at the top to pick one.")
            return refuse(request, message)

        return wrapper

    return decorator


def newest(rows: QuerySet, count: int) -> QuerySet:
    """The first `count` of `rows` (a station's history, newest first) for a desk's recent list.

    The ids are picked by the station's index alone, and the tables the list shows are joined to
    those ids only: in one query the planner sizes its joins for the station's whole history
    (millions of events at a busy station), which at a million units cost more than the rows.
    """
    ids = rows.values("pk")[:count]
    return rows.model._default_manager.filter(pk__in=ids).order_by(*rows.query.order_by)


def stamped(moment: datetime) -> tuple[str, str]:
    """A recent-list row's time, local: ISO for <time datetime> and the clock time shown.

    What the template's date:'c' and time:'H:i:s' filters write, without their lookups: through
    them a desk's ten rows cost an eighth of its rendering.
    """
    local = localtime(moment)
    return local.isoformat(), f"{local:%H:%M:%S}"
