from django.apps import AppConfig


class ReturnsDeskConfig(AppConfig):
    name = "returns_desk"
    verbose_name = "Returns desk: receiving"
