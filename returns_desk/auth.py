"""Permissions and roles from the configuration cache: every screen checks them on every request."""

from django.contrib.auth.backends import ModelBackend

from . import configcache


class CachedPermissionsBackend(ModelBackend):
    """Django's ModelBackend, with each user and their permissions read once per configuration.

    Saving a user (deactivated, password changed, made superuser) and changing groups or their
    permissions invalidate the cache (see returns_desk.apps).
    """

    def get_user(self, user_id):
        return configcache.cached(
            ("user", user_id), lambda: super(CachedPermissionsBackend, self).get_user(user_id)
        )

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = configcache.cached(
                ("permissions", user_obj.pk, user_obj.is_superuser),
                lambda: super(CachedPermissionsBackend, self).get_all_permissions(user_obj),
            )
        return user_obj._perm_cache
