"""The benchmark's data is only worth its figures if it is data the app could have written."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from returns_desk.models import CustomerEmail, ReturnItem

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


# Committed for real, as the benchmark's data is.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_data_restored")
def test_seeded_clones_cover_every_status_and_pass_every_integrity_check():
    call_command("seed_bench", units=600, templates=60, stdout=StringIO())

    # As many units as asked for, give or take the last clone's share of the templates.
    assert 600 <= ReturnItem.objects.count() < 600 + 60
    statuses = set(ReturnItem.objects.values_list("status", flat=True))
    assert {"held", "received", "inspected", "disposed", "put_away", "closed"} <= statuses
    # Spread over the hours of the day, as a site's work is, not all in the hour of the seed.
    hours = {at.hour for at in ReturnItem.objects.values_list("received_at", flat=True)}
    assert len(hours) >= 8
    # Among others: every key a clone copies (LPN, RMA number, grade, program) is its own.
    call_command("check_integrity", stdout=StringIO())  # CommandError on any violation
    # Its templates go through the services, which queue mails to their customers; invented
    # ones get nothing, now or from the worker later.
    assert not CustomerEmail.objects.filter(status=CustomerEmail.Status.PENDING).exists()
    call_command("deliver_webhooks", stdout=StringIO())
    assert mail.outbox == []
