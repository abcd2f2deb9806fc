"""The supervisor's screens under one namespace, `supervisor:`.

Screens over later apps' data (the dashboard, a unit's timeline) come from disposition's
module, included by name so the core never imports it.
"""

from django.urls import include, path

from . import supervisor_views as views

app_name = "supervisor"

urlpatterns = [
    path("queues/<slug:key>/", views.queue, name="queue"),
    path("queues/<slug:key>/export.csv", views.queue_csv, name="queue_csv"),
    path("exceptions/<int:pk>/", views.exception, name="exception"),
    path("exceptions/<int:pk>/link/", views.exception_link, name="exception_link"),
    path(
        "exceptions/<int:pk>/create-rma/", views.exception_create_rma, name="exception_create_rma"
    ),
    path("exceptions/<int:pk>/resolve/", views.exception_resolve, name="exception_resolve"),
    # RMA numbers may hold "/" (ERP numbering such as RMA/2025/0001), so they are matched as a
    # path. The cancel action comes first, or the page would take ".../cancel" as a number; no
    # number ends in "/cancel" itself, since numbers are stored upper-case.
    path("rmas/<path:number>/cancel/", views.rma_cancel, name="rma_cancel"),
    path("rmas/<path:number>/", views.rma, name="rma"),
    path("search/", views.search, name="search"),
    path("units/", views.units, name="units"),
    path("units/export.csv", views.units_csv, name="units_csv"),
    path("", include("disposition.supervisor_urls")),
]
