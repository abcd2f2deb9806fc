from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsDeskConfig(AppConfig):
    name = "returns_desk"
    verbose_name = _("Returns desk: receiving")

    def ready(self) -> None:
        from django.contrib.auth.models import Group, Permission, User

        from . import configcache, queues
        from .models import (
            ProductCategory,
            Program,
            QueueSLA,
            ReasonCode,
            ReturnPolicy,
            Site,
            Station,
        )
        from .supervisor_views import EXCEPTION_QUEUE

        queues.register(EXCEPTION_QUEUE)
        # Users, their groups and permissions, stations, and the policies and codes that
        # checklists and disposition rules name: what every station request reads.
        configcache.watch(User, Group, Permission, Site, Station)
        configcache.watch(Program, ReasonCode, ProductCategory, ReturnPolicy)
        # The queues' SLA targets, which every queue page reads to mark late rows.
        configcache.watch(QueueSLA)
