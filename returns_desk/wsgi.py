import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "returns_desk.settings")
application = get_wsgi_application()
# What is loaded by now lives as long as the worker: out of the garbage collector's reach, its
# full collections no longer walk it. They did every few dozen requests, 70 ms at a time on the
# dashboard at a million units (bench/results.md, run 8).
gc.freeze()
