from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispositionConfig(AppConfig):
    name = "disposition"
    verbose_name = _("Disposition")

    def ready(self) -> None:
        from inspection.next_step import register_next_step
        from returns_desk import configcache
        from returns_desk.custody import register_back_in_stock
        from returns_desk.facts import register_unit_facts
        from returns_desk.references import register_referrers
        from returns_desk.signals import demo_data_loaded

        from . import dashboard, queues
        from .demo import load_demo_rules
        from .demo_activity import load_demo_activity
        from .facts import disposition_facts, restocked, rules_naming
        from .models import DefaultDestination, DispositionRule, DispositionSettings, Partner
        from .next_step import recommended_disposition

        register_unit_facts(disposition_facts)
        register_back_in_stock(restocked)
        register_referrers(rules_naming)
        register_next_step(recommended_disposition)
        configcache.watch(DispositionRule, Partner, DefaultDestination, DispositionSettings)

        demo_data_loaded.connect(load_demo_rules, dispatch_uid="disposition_demo")
        # After the rules: the activity decides units by them.
        demo_data_loaded.connect(load_demo_activity, dispatch_uid="disposition_demo_activity")
        queues.register()
        dashboard.watch_sources()
