"""Production settings, as the environment gives them, pass `check --deploy` without a warning."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy_without_warnings():
    # The suite's own switches (conftest allows async-unsafe ORM calls) are not production's.
    left_out = {"DEBUG", "HTTPS", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT"}
    left_out |= {"DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"}
    env = {key: value for key, value in os.environ.items() if key not in left_out}
    env |= {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "returns.example.com",
        "DEBUG": "false",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
