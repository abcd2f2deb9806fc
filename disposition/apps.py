from django.apps import AppConfig


class DispositionConfig(AppConfig):
    name = "disposition"
    verbose_name = "Disposition"

    def ready(self) -> None:
        from returns_desk.signals import demo_data_loaded

        from .demo import load_demo_rules

        demo_data_loaded.connect(load_demo_rules, dispatch_uid="disposition_demo")
