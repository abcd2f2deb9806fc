from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionConfig(AppConfig):
    name = "inspection"
    verbose_name = _("Inspection and grading")

    def ready(self) -> None:
        from returns_desk import configcache
        from returns_desk.facts import register_unit_facts
        from returns_desk.signals import demo_data_loaded

        from .demo import load_demo_checklists
        from .facts import grade_facts
        from .models import ChecklistCategory, Grade, GradeScale, GradingCriterion

        register_unit_facts(grade_facts)
        configcache.watch(GradingCriterion, GradeScale, Grade, ChecklistCategory)

        demo_data_loaded.connect(load_demo_checklists, dispatch_uid="inspection_demo")
