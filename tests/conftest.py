import os

import pytest
from django.db import connection

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the same
# thread are still synchronous and safe, so the async-safety guard is switched off for the suite.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    # Row-lock races need PostgreSQL; the SQLite run says so rather than passing vacuously.
    if connection.vendor != "postgresql":
        needs_pg = pytest.mark.skipif(
            True, reason="needs PostgreSQL row locks (runs in the PostgreSQL pass)"
        )
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(needs_pg)


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory):
    """Settings for the whole run, set before the live server builds its middleware.

    The manifest storage needs collectstatic, so tests serve static files from the finders;
    the live server speaks plain HTTP, so the production HTTPS redirect and secure cookies go.
    STATIC_ROOT points at an empty folder: whitenoise serves whatever a past collectstatic (the
    benchmark's, a deployment's) left in ./staticfiles ahead of the finders, so browser tests
    would run against stale CSS and JavaScript.
    """
    from django.conf import settings

    settings.STATIC_ROOT = tmp_path_factory.mktemp("static_root")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture(autouse=True)
def _no_configuration_cached():
    """Each test's configuration is computed from its own rows (see returns_desk.configcache)."""
    from returns_desk import configcache

    configcache.clear()


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request leaves its language active in the thread (the next request's LocaleMiddleware
    sets its own), so code a test calls directly after a German request would run in German."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(scope="session")
def _role_groups(django_db_setup, django_db_blocker):
    """The role groups data migrations made, their permissions named by natural key."""
    from django.contrib.auth.models import Group
    from django.core import serializers

    with django_db_blocker.unblock():
        return serializers.serialize("json", Group.objects.all(), use_natural_foreign_keys=True)


@pytest.fixture
def migration_data_restored(_role_groups, transactional_db):
    """Transactional tests end with a flush that wipes the role groups data migrations made.

    Content types and permissions come back by themselves (post_migrate); the groups do not,
    and `serialized_rollback` does not help in runs with the session-wide live server
    (pytest-django then skips serialising the test database), so they are restored here.
    """
    from django.contrib.auth.models import Group
    from django.core import serializers

    if not Group.objects.exists():
        for group in serializers.deserialize("json", _role_groups):
            group.save()


@pytest.fixture
def station(db):
    from tests.factories import StationFactory

    return StationFactory(code="RCV-01")


@pytest.fixture
def clerk(db):
    from tests.factories import UserFactory

    return UserFactory(username="clara", role="clerk")


@pytest.fixture
def supervisor(db):
    from tests.factories import UserFactory

    return UserFactory(username="sam", role="supervisor")


def client_at_station(client, user, station):
    """A logged-in client that has already chosen `station` (as the clerk does after login)."""
    client.force_login(user)
    session = client.session
    session["station_id"] = station.pk
    session.save()
    return client


@pytest.fixture
def clerk_client(client, clerk, station):
    return client_at_station(client, clerk, station)
