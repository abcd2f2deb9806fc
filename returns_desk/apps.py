from django.apps import AppConfig


class ReturnsDeskConfig(AppConfig):
    name = "returns_desk"
    verbose_name = "Returns desk: receiving"

    def ready(self) -> None:
        from . import queues
        from .supervisor_views import EXCEPTION_QUEUE

        queues.register(EXCEPTION_QUEUE)
