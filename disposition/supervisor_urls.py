"""Included into the core's `supervisor:` namespace (returns_desk/supervisor_urls.py)."""

from django.urls import path

from . import supervisor

urlpatterns = [
    path("", supervisor.dashboard, name="dashboard"),
    path("units/<str:lpn>/", supervisor.unit, name="unit"),
]
