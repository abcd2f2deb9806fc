"""How gunicorn's workers load the app."""

import subprocess
import sys


def test_a_worker_keeps_the_loaded_app_out_of_the_garbage_collectors_full_collections():
    # In a process of its own: freezing the test run's objects would change every later test.
    frozen = subprocess.run(
        [sys.executable, "-c", "import gc, returns_desk.wsgi; print(gc.get_freeze_count())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert int(frozen) > 10_000
