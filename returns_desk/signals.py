"""Signals the core sends so later apps can join in without the core importing them."""

from django.dispatch import Signal

# Sent by `manage.py seed_demo` after the core demo data (sites, programs, categories, products,
# RMAs, users) exists; receivers add their own demo configuration idempotently. No arguments.
demo_data_loaded = Signal()
