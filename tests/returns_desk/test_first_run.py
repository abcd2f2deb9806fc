"""What `make run` prints before serving: every demo login, its password and where to start."""

from io import StringIO

import pytest
from django.core.management import call_command

from returns_desk.demo import DEMO_PASSWORD, DEMO_USERS

pytestmark = pytest.mark.django_db


def test_seed_demo_prints_each_login_with_its_password_and_where_to_start():
    out = StringIO()

    call_command("seed_demo", stdout=out)

    lines = out.getvalue().splitlines()
    for username, *_, role in DEMO_USERS:
        line = next(line for line in lines if line.split()[:1] == [username])
        assert DEMO_PASSWORD in line and role in line
        assert len(line.split(role, 1)[1].strip()) > 20, f"{username} is told nowhere to start"
    assert "RMA-100009" in out.getvalue()
