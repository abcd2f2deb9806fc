from django.urls import path

from . import views

app_name = "inspection"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("scan/", views.scan, name="scan"),
    path("inspections/<int:pk>/preview/", views.preview, name="preview"),
    path("inspections/<int:pk>/complete/", views.complete, name="complete"),
    path("units/<str:lpn>/reopen/", views.reopen, name="reopen"),
    path("photos/<int:pk>/", views.photo, name="photo"),
]
