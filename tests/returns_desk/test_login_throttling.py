"""Login throttling (django-axes) and password rules: guessing is slowed, weak passwords refused."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # the factories' password


def log_in(client, username: str, password: str, address: str = "10.0.0.7"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_repeated_wrong_passwords_lock_the_user_out_at_that_address_until_the_cool_off(
    client, clerk, settings
):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert log_in(client, "clara", "guess").status_code == 200
        assert log_in(client, "clara", "guess").status_code == 429

        # Now even the right password is refused.
        locked = log_in(client, "clara", PASSWORD)

        assert locked.status_code == 429
        assert "Too many failed log-ins" in locked.content.decode()
        assert "_auth_user_id" not in client.session

        clock.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
        after = log_in(client, "clara", PASSWORD)

    assert after.status_code == 302
    assert client.session["_auth_user_id"] == str(clerk.pk)


def test_a_lockout_holds_only_the_username_at_that_address(client, clerk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "clara", "guess", address="10.0.0.7")

    elsewhere = log_in(client, "clara", PASSWORD, address="10.0.0.8")

    assert elsewhere.status_code == 302


def test_a_successful_login_forgets_earlier_failures(client, clerk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "clara", "guess")
    assert log_in(client, "clara", PASSWORD).status_code == 302
    client.logout()

    log_in(client, "clara", "guess")

    assert log_in(client, "clara", PASSWORD).status_code == 302


@pytest.mark.parametrize("weak", ["returns", "12345678", "password1", "clara2026"])
def test_weak_passwords_are_refused(clerk, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=clerk)


def test_the_admin_refuses_to_create_a_user_with_a_weak_password():
    form = AdminUserCreationForm(
        {
            "username": "newclerk",
            "password1": "12345678",
            "password2": "12345678",
            "usable_password": "true",
        }
    )

    assert not form.is_valid()
    assert "password2" in form.errors
