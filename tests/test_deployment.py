"""What docs/deployment.md and the Procfile promise an operator holds for the code as it is."""

import ast
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV_READERS = {"env", "env_bool", "env_list"}


def settings_environment_variables() -> set[str]:
    """Every variable settings.py reads: env("NAME", ...), env_bool(...), os.environ.get(...)."""
    tree = ast.parse((ROOT / "returns_desk" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        reader = func.id if isinstance(func, ast.Name) else ast.unparse(func)
        first = node.args[0]
        if reader in ENV_READERS | {"os.environ.get", "os.getenv"} and isinstance(
            first, ast.Constant
        ):
            names.add(first.value)
    return names


def test_the_deployment_guide_lists_every_variable_settings_reads():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", guide, flags=re.MULTILINE))

    read = settings_environment_variables()

    assert "DATABASE_URL" in read  # the reader above finds them at all
    assert read - listed == set(), "read by returns_desk/settings.py, missing from the guide"
    assert listed - read - {"WEB_CONCURRENCY", "PORT"} == set(), "listed, but read by nothing"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_procfile_releases_serves_healthz_with_production_settings_and_runs_the_worker(
    tmp_path,
):
    port = free_port()
    left_out = {"DEBUG", "HTTPS", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in left_out}
    env |= {
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env['PATH']}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'release.sqlite3'}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORT": str(port),
    }
    commands = procfile()
    assert set(commands) == {"release", "web", "worker"}

    def start(name: str) -> subprocess.Popen:
        # exec: the signal that stops the service reaches gunicorn or the worker itself.
        line = commands[name] if name == "release" else f"exec {commands[name]}"
        return subprocess.Popen(
            ["bash", "-c", line],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    release = start("release")
    assert release.wait(timeout=300) == 0, release.stdout.read()

    web, worker = start("web"), start("worker")
    try:
        assert "gunicorn" in shlex.split(commands["web"])[0]
        answer = None
        for _ in range(100):
            time.sleep(0.2)
            assert web.poll() is None, web.stdout.read()
            try:
                # Production redirects plain HTTP to HTTPS: the proxy says it was HTTPS.
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/healthz", headers={"X-Forwarded-Proto": "https"}
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    answer = (response.status, response.read())
                break
            except OSError:
                continue
        assert answer == (200, b"ok")
        assert worker.poll() is None, worker.stdout.read()  # still delivering, as a worker
    finally:
        for process in (web, worker):
            process.terminate()
            process.wait(timeout=30)


def test_a_mail_server_that_hangs_holds_a_customer_email_for_at_most_email_timeout():
    # The worker sends customer e-mails one at a time: a server that accepts the connection
    # and never greets must cost it seconds, well inside the mail's lease, not forever.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        script = (
            "import django, time\n"
            "django.setup()\n"
            "from django.core.mail import send_mail\n"
            "started = time.monotonic()\n"
            "try:\n"
            "    send_mail('s', 'b', None, ['customer@example.com'])\n"
            "except OSError:\n"
            "    print('gave up after', round(time.monotonic() - started), 's')\n"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "returns_desk.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(hung.getsockname()[1]),
            "EMAIL_TIMEOUT": "1",
        }
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.stdout.strip() == "gave up after 1 s", result.stderr


def test_database_replica_url_configures_the_replica_like_the_primary():
    """Same engine options as the primary (prepared statements, no JIT); a mirror in tests."""
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://app@primary.example:5432/returns_desk",
        "DATABASE_REPLICA_URL": "postgres://reader@replica.example:5432/returns_desk",
    }
    script = (
        "import json; from returns_desk import settings; "
        "print(json.dumps(settings.DATABASES, default=str))"
    )
    databases = json.loads(
        subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, check=True
        ).stdout
    )

    replica, primary = databases["replica"], databases["default"]
    assert (replica["HOST"], replica["USER"]) == ("replica.example", "reader")
    assert replica["OPTIONS"] == primary["OPTIONS"]
    assert replica["OPTIONS"]["server_side_binding"] is True
    assert replica["TEST"] == {"MIRROR": "default"}
