from django.contrib import admin
from django.urls import include, path

from . import api, track, views

receiving_patterns = [
    path("", views.receiving_desk, name="desk"),
    path("scan/", views.scan, name="scan"),
    path("park/", views.park, name="park"),
    path("unannounced/", views.receive_unannounced, name="unannounced"),
    path("parcels/<int:pk>/close/", views.close_parcel, name="close"),
    path("parcels/<int:pk>/exception-units/", views.receive_exception_unit, name="exception_unit"),
    path("units/<str:lpn>/label/", views.unit_label, name="label"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("station/", views.choose_station, name="station"),
    path("receiving/", include((receiving_patterns, "receiving"))),
    path("inspection/", include("inspection.urls")),
    path("disposition/", include("disposition.urls")),
    path("supervisor/", include("returns_desk.supervisor_urls")),
    path("api/v1/", api.urls()),
    path("track/", track.track, name="track"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
