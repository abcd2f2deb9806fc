from django.urls import path

from . import views

app_name = "disposition"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("scan/", views.scan, name="scan"),
    path("units/<str:lpn>/", views.decide, name="decide"),
    path("units/<str:lpn>/approve/", views.approve, name="approve"),
    path("units/<str:lpn>/reject/", views.reject, name="reject"),
    path("units/<str:lpn>/label/", views.label, name="label"),
    path("lots/", views.lots, name="lots"),
    path("lots/<int:pk>/close/", views.close_lot, name="close_lot"),
    path("lots/<int:pk>/manifest/", views.manifest, name="manifest"),
    path("lots/<int:pk>/manifest.csv", views.manifest_csv, name="manifest_csv"),
    path("repairs/", views.repairs, name="repairs"),
    path("repairs/<int:pk>/complete/", views.complete_repair, name="complete_repair"),
]
