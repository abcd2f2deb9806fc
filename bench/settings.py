"""The project's settings, served with the benchmark's floor views (bench/urls.py) added."""

from returns_desk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
