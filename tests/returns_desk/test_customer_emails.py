"""The customer's e-mails: queued with the change that causes them, sent by the worker."""

import smtplib
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from returns_desk import notifications, services
from returns_desk.models import CustomerEmail, ItemEvent
from tests.factories import ProductFactory, UserFactory, make_rma, open_parcel
from tests.returns_desk.helpers import parked_kettles_one_being_inspected
from tests.returns_desk.test_concurrency import run_together

pytestmark = pytest.mark.django_db

Status = CustomerEmail.Status


class DownMailServer(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def mail_server_down(settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.DownMailServer"}}


def make_due_now():
    CustomerEmail.objects.update(next_attempt_at=timezone.now())


def test_a_received_parcel_queues_the_mail_and_the_clerk_sends_nothing(station, clerk):
    rma = make_rma((ProductFactory(), 1), number="RMA-6001", customer_email="ana@example.com")

    parcel = open_parcel(rma, station, clerk)

    email = CustomerEmail.objects.get()
    assert email.status == Status.PENDING and email.recipient == "ana@example.com"
    assert email.kind == "parcel_received" and email.rma == rma
    assert email.event == ItemEvent.objects.get(parcel=parcel, action="parcel_received")
    assert mail.outbox == []


def test_the_worker_sends_the_parcel_mail_as_the_customer_knows_it(station, clerk):
    rma = make_rma((ProductFactory(), 1), number="RMA-6001", customer_email="ana@example.com")
    open_parcel(rma, station, clerk)

    run = notifications.send_due()

    assert run.sent == 1
    [message] = mail.outbox
    assert message.to == ["ana@example.com"]
    assert message.subject == "Return RMA-6001: we have received your return"
    assert "http://127.0.0.1:8000/track/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "RMA-6001" in html
    email = CustomerEmail.objects.get()
    assert email.status == Status.SENT and email.sent_at is not None and email.attempts == 1
    assert notifications.send_due().sent == 0  # sent once, never again


def test_the_mail_is_written_in_the_language_of_the_request_that_queued_it(station, clerk):
    rma = make_rma((ProductFactory(), 1), customer_email="ana@example.com")
    with translation.override("de"):
        open_parcel(rma, station, clerk)

    notifications.send_due()

    assert CustomerEmail.objects.get().language == "de"
    [message] = mail.outbox
    assert message.subject == f"Retoure {rma.number}: Wir haben Ihre Retoure erhalten"
    with translation.override("de"):
        expected = notifications.render(CustomerEmail.objects.get())
    assert (message.subject, message.body) == (expected.subject, expected.body)


def test_the_customer_is_mailed_when_a_refund_is_released(station, clerk):
    product = ProductFactory(name="Electric kettle")
    rma = make_rma((product, 1), customer_email="olga@example.com")
    item, _ = services.receive_unit(
        parcel=open_parcel(rma, station, clerk), code=product.sku, station=station, user=clerk
    )
    notifications.send_due()
    mail.outbox.clear()

    with transaction.atomic():
        services.record_event(
            item=item,
            action="refund_released",
            user=clerk,
            station=station,
            details={"amount": "35.10", "treatment": "minus_fee"},
        )
    notifications.send_due()

    [message] = mail.outbox
    assert "refund" in message.subject
    assert "35.10" in message.body and "Electric kettle" in message.body


def test_no_mail_is_queued_for_a_change_that_rolled_back(station, clerk):
    rma = make_rma((ProductFactory(), 1), customer_email="ana@example.com")

    with pytest.raises(RuntimeError), transaction.atomic():
        open_parcel(rma, station, clerk)
        raise RuntimeError("rolled back")

    assert not CustomerEmail.objects.exists()
    assert notifications.send_due().sent == 0 and mail.outbox == []


def test_a_return_without_an_email_address_queues_nothing(station, clerk):
    rma = make_rma((ProductFactory(), 1), customer_email="")

    open_parcel(rma, station, clerk)

    assert not CustomerEmail.objects.exists()


def test_a_parcel_scanned_twice_mails_its_customer_once(station, clerk):
    rma = make_rma((ProductFactory(), 1), customer_email="ana@example.com")

    open_parcel(rma, station, clerk)
    open_parcel(rma, station, clerk)
    notifications.send_due()

    assert CustomerEmail.objects.count() == 1 and len(mail.outbox) == 1


def test_a_mail_the_server_refuses_waits_for_a_later_attempt(station, clerk, mail_server_down):
    rma = make_rma((ProductFactory(), 1), customer_email="ana@example.com")
    open_parcel(rma, station, clerk)

    before = timezone.now()
    run = notifications.send_due()

    assert run.retrying == 1
    email = CustomerEmail.objects.get()
    assert email.status == Status.PENDING and email.attempts == 1
    assert "Connection unexpectedly closed" in email.last_error
    assert timedelta(seconds=29) < email.next_attempt_at - before < timedelta(seconds=35)
    assert notifications.send_due().retrying == 0  # not due yet: no second attempt


def test_a_mail_sent_at_last_forgets_its_last_error(station, clerk, settings, mail_server_down):
    rma = make_rma((ProductFactory(), 1), customer_email="ana@example.com")
    open_parcel(rma, station, clerk)
    notifications.send_due()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    make_due_now()

    assert notifications.send_due().sent == 1
    email = CustomerEmail.objects.get()
    assert email.status == Status.SENT and email.attempts == 2 and email.last_error == ""
    assert len(mail.outbox) == 1


def test_a_mail_failing_every_attempt_is_marked_failed_and_can_be_sent_again(
    station, clerk, settings, mail_server_down, admin_client, admin_user
):
    settings.CUSTOMER_EMAIL_MAX_ATTEMPTS = 3
    rma = make_rma((ProductFactory(), 1), number="RMA-6002", customer_email="ana@example.com")
    parcel = open_parcel(rma, station, clerk)
    for _attempt in range(2):
        assert notifications.send_due().retrying == 1
        make_due_now()
    assert notifications.send_due().failed == 1
    make_due_now()
    assert notifications.send_due().failed == 0  # failed for good: no more attempts
    email = CustomerEmail.objects.get()
    assert email.status == Status.FAILED and email.attempts == 3

    listing = admin_client.get("/admin/returns_desk/customeremail/?status=failed&q=RMA-6002")
    response = admin_client.post(
        "/admin/returns_desk/customeremail/",
        {"action": "send_again", "_selected_action": [email.pk]},
    )

    assert listing.status_code == 200 and "ana@example.com" in listing.text
    assert response.status_code == 302
    email.refresh_from_db()
    assert email.status == Status.PENDING and email.attempts == 0
    resent = ItemEvent.objects.get(parcel=parcel, action="customer_email_resent")
    assert resent.user == admin_user
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert notifications.send_due().sent == 1 and len(mail.outbox) == 1


def test_by_default_a_mail_outlives_a_mail_server_down_overnight(station, clerk, mail_server_down):
    open_parcel(make_rma((ProductFactory(), 1), customer_email="ana@example.com"), station, clerk)
    waited = timedelta()
    while notifications.send_due().retrying:
        email = CustomerEmail.objects.get()
        waited += email.next_attempt_at - email.last_attempt_at
        make_due_now()

    assert CustomerEmail.objects.get().status == Status.FAILED
    assert waited >= timedelta(hours=12)


def test_the_dashboard_tells_supervisors_of_mails_that_could_not_be_sent(
    client, station, clerk, supervisor, settings, mail_server_down
):
    def dashboard(user) -> str:
        client.force_login(user)
        return " ".join(client.get("/supervisor/").text.split())

    settings.CUSTOMER_EMAIL_MAX_ATTEMPTS = 2
    for number in ("RMA-6101", "RMA-6102"):
        open_parcel(make_rma((ProductFactory(), 1), number=number), station, clerk)
    assert "Customer e-mails:" not in dashboard(supervisor)  # queued, not yet tried: no news

    notifications.send_due()
    waiting = dashboard(supervisor)
    make_due_now()
    notifications.send_due(limit=1)
    one_failed = dashboard(supervisor)
    both_an_admin = dashboard(UserFactory(username="ada", role="admin"))

    assert "</strong> 2 waiting to be tried again in the last 7 days" in waiting
    assert "An admin can see them and send them again." in waiting
    assert "</strong> 1 could not be sent, 1 waiting to be tried again" in one_failed
    assert 'href="/admin/returns_desk/customeremail/?status__exact=failed"' in both_an_admin


def test_sending_many_failed_mails_again_costs_no_more_than_sending_one(
    station, clerk, admin_user, django_assert_max_num_queries
):
    parcels = [
        open_parcel(
            make_rma((ProductFactory(), 1), customer_email=f"c{n}@example.com"), station, clerk
        )
        for n in range(4)
    ]
    CustomerEmail.objects.update(status=Status.FAILED, attempts=13)
    first, *others = CustomerEmail.objects.order_by("pk")
    with CaptureQueriesContext(connection) as one:
        services.resend_customer_emails(
            emails=CustomerEmail.objects.filter(pk=first.pk), user=admin_user
        )

    with django_assert_max_num_queries(len(one)):
        queued = services.resend_customer_emails(
            emails=CustomerEmail.objects.filter(pk__in=[e.pk for e in others]), user=admin_user
        )

    assert queued == 3
    assert set(CustomerEmail.objects.values_list("status", "attempts")) == {(Status.PENDING, 0)}
    resent = ItemEvent.objects.filter(action="customer_email_resent", user=admin_user)
    assert sorted(event.parcel_id for event in resent) == sorted(p.pk for p in parcels)


def test_sending_again_leaves_pending_and_sent_mails_alone(station, clerk, admin_user):
    for number in ("RMA-6003", "RMA-6004"):
        open_parcel(make_rma((ProductFactory(), 1), number=number), station, clerk)
    notifications.send_due(limit=1)

    queued = services.resend_customer_emails(emails=CustomerEmail.objects.all(), user=admin_user)

    assert queued == 0
    assert sorted(CustomerEmail.objects.values_list("status", flat=True)) == ["pending", "sent"]
    assert not ItemEvent.objects.filter(action="customer_email_resent").exists()


def test_a_claimed_mail_cannot_be_claimed_by_a_second_worker(station, clerk):
    open_parcel(make_rma((ProductFactory(), 1)), station, clerk)

    first = notifications.claim_next(timezone.now())

    assert first is not None
    assert notifications.claim_next(timezone.now()) is None
    # A worker that died lets its lease lapse; then another may take the mail over.
    assert notifications.claim_next(timezone.now() + timedelta(minutes=6)) == first


def test_the_worker_command_reports_the_mails_it_sent(station, clerk):
    open_parcel(make_rma((ProductFactory(), 1)), station, clerk)
    out = StringIO()

    call_command("deliver_webhooks", stdout=out)

    assert "Customer e-mails: 1 sent, 0 to retry, 0 failed." in out.getvalue()
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_data_restored")
def test_workers_running_at_once_send_each_mail_once(station, clerk):
    for number in range(6):
        open_parcel(make_rma((ProductFactory(), 1), number=f"RMA-70{number}"), station, clerk)

    runs = run_together(*[notifications.send_due] * 3)

    assert sum(run.sent for run in runs) == 6, runs
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        CustomerEmail.objects.values_list("recipient", flat=True)
    )
    assert set(CustomerEmail.objects.values_list("status", flat=True)) == {Status.SENT}


def parked_parcel_with_a_wrong_item(station, clerk):
    """RMA-6001's box: its kettle received, a wrong item held, then the box parked."""
    rma = make_rma(
        (ProductFactory(name="Electric kettle"), 1),
        number="RMA-6001",
        customer_email="ana@example.com",
    )
    parcel = open_parcel(rma, station, clerk)
    services.receive_unit(
        parcel=parcel, code=rma.lines.get().product.sku, station=station, user=clerk
    )
    services.receive_exception_unit(
        parcel=parcel,
        code=ProductFactory(name="Toaster").sku,
        kind="wrong_item",
        station=station,
        user=clerk,
    )
    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="box was opened")
    CustomerEmail.objects.all().delete()  # the mail of its arrival
    return parcel


@pytest.mark.parametrize(
    "resolve, subject, sentence",
    [
        (
            services.refuse_exception,
            "we are sending it back to you",
            "We could not accept the parcel of your return RMA-6001, and we are sending it back"
            " to you.",
        ),
        (
            services.write_off_exception,
            "we could not accept it",
            "We could not accept the parcel of your return RMA-6001. It will not be sent back to"
            " you.",
        ),
    ],
)
def test_a_refused_or_written_off_parcel_is_told_to_its_customer_once(
    station, clerk, supervisor, resolve, subject, sentence
):
    parcel = parked_parcel_with_a_wrong_item(station, clerk)
    parked = parcel.exceptions.get(kind="parked")

    resolve(exception=parked, reason="damaged beyond use", user=supervisor)
    notifications.send_due()

    [message] = mail.outbox  # one for the box, none for each unit closed with it
    assert message.subject == f"Return RMA-6001: {subject}"
    assert sentence in message.body


def test_a_wrong_item_sent_back_alone_is_named_in_its_mail(station, clerk, supervisor):
    parcel = parked_parcel_with_a_wrong_item(station, clerk)
    wrong = parcel.exceptions.get(kind="wrong_item")

    services.refuse_exception(exception=wrong, reason="not ours to keep", user=supervisor)
    notifications.send_due()

    [message] = mail.outbox
    assert (
        "We could not accept Toaster from your return RMA-6001, and we are sending it back to you."
        in message.body
    )
    html, _ = message.alternatives[0]
    assert "Toaster" in html


def test_a_refused_parcel_whose_units_were_partly_kept_names_each_unit_leaving(
    station, clerk, supervisor
):
    """A unit already being inspected stays: the customer must not read that the box went back."""
    parcel, leaving, staying = parked_kettles_one_being_inspected(
        station=station,
        clerk=clerk,
        inspecting_at=station,
        number="RMA-7001",
        customer_email="ana@example.com",
    )
    CustomerEmail.objects.all().delete()

    refused = services.refuse_exception(
        exception=parcel.exceptions.get(kind="parked"), reason="not ours", user=supervisor
    )
    notifications.send_due()

    assert refused.kept == [staying.lpn]
    [message] = mail.outbox
    assert "We could not accept Electric kettle from your return RMA-7001" in message.body
    assert "the parcel of your return" not in message.body
    assert CustomerEmail.objects.get().event.item_id == leaving.pk
