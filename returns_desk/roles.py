"""The three roles, as Django groups, and what each may do.

Supervisors can do all a clerk can; admins all a supervisor can, plus the configuration in
Django admin. Later apps add their permissions to these groups in their own data migrations
by calling `grant`.
"""

from .configcache import cached

CLERK, SUPERVISOR, ADMIN = "clerk", "supervisor", "admin"
ROLES = (CLERK, SUPERVISOR, ADMIN)


def grant(apps, role_perms: dict[str, list[str]]) -> None:
    """Give each named group the permissions listed as 'app_label.codename' (for migrations)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; a data migration must create them itself.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_perms.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def role_of(user) -> str:
    """The highest role a user holds, for the page header."""
    if user.is_superuser:
        return ADMIN
    return cached(("role", user.pk), lambda: _highest_role(user))


def _highest_role(user) -> str:
    names = {group.name for group in user.groups.all()}
    for role in (ADMIN, SUPERVISOR, CLERK):
        if role in names:
            return role
    return ""
