"""Production settings, as the environment gives them, pass `check --deploy` without a warning."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from returns_desk.scanning import MAX_CODE_LENGTH, BadScan, parse_scan

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


@given(st.text(max_size=200))
def test_parse_scan_answers_a_canonical_code_or_bad_scan_and_nothing_else(raw):
    try:
        code = parse_scan(raw)
    except BadScan as refusal:
        assert str(refusal)
        return
    assert 0 < len(code) <= MAX_CODE_LENGTH
    assert all(" " <= char <= "~" for char in code)
    assert code == code.strip() == code.upper()
    assert parse_scan(code) == code


@pytest.mark.parametrize("raw", ["ß" * 3, "ı", "ſ", "\x00LPN", "LPN\u200b"])
def test_parse_scan_refuses_characters_that_upper_case_into_ascii(raw):
    with pytest.raises(BadScan):
        parse_scan(raw)
