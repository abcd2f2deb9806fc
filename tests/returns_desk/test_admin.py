from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from returns_desk import services
from returns_desk.models import (
    ItemEvent,
    OutboxEvent,
    Parcel,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
)
from tests.factories import (
    PolicyFactory,
    ProductFactory,
    ProgramFactory,
    ReasonFactory,
    UserFactory,
    make_rma,
    open_parcel,
)

pytestmark = pytest.mark.django_db

RECORDS = [Parcel, ReturnItem, ItemEvent, ReceivingException]


@pytest.fixture
def admin_role_client(client):
    client.force_login(UserFactory(username="ada", role="admin"))
    return client


def test_every_core_admin_list_opens_for_an_admin(admin_role_client, station, clerk):
    rma = make_rma((ProductFactory(), 2), tracking="TRACK-1")
    services.receive_unit(
        parcel=open_parcel(rma, station, clerk),
        code=rma.lines.get().product.sku,
        station=station,
        user=clerk,
    )
    for model in admin.site._registry:
        if model._meta.app_label != "returns_desk":
            continue
        url = reverse(f"admin:returns_desk_{model._meta.model_name}_changelist")
        assert admin_role_client.get(url).status_code == 200, url


def test_an_admin_can_add_an_rma_with_lines_in_admin(admin_role_client):
    assert (
        admin_role_client.get(reverse("admin:returns_desk_returnauthorization_add")).status_code
        == 200
    )


def test_the_admin_refuses_a_serial_on_a_line_of_several_units(admin_role_client):
    product, reason, policy = ProductFactory(), ReasonFactory(), PolicyFactory()
    program = ProgramFactory()
    policy.programs.add(program)
    line = {"product": product.pk, "reason": reason.pk, "price_paid": "0", "line_no": "1"}
    data = {
        "number": "RMA-ADM-1",
        "program": program.pk,
        "policy": policy.pk,
        "channel": "web",
        "issued_on": "2026-01-05",
        "expires_on": "2026-02-04",
        **{f"lines-0-{name}": value for name, value in line.items()},
        "lines-0-quantity_expected": "2",
        "lines-0-serial_number": "SN-9",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "tracking-TOTAL_FORMS": "0",
        "tracking-INITIAL_FORMS": "0",
    }

    response = admin_role_client.post(reverse("admin:returns_desk_returnauthorization_add"), data)

    assert response.status_code == 200  # the form again, with the error at the line
    assert "Serial number SN-9 names one unit, but the line expects 2." in response.text
    assert not ReturnAuthorization.objects.exists()
    data["lines-0-quantity_expected"] = "1"
    admin_role_client.post(reverse("admin:returns_desk_returnauthorization_add"), data)
    assert ReturnAuthorization.objects.get().lines.get().serial_number == "SN-9"


@pytest.mark.parametrize("model", RECORDS)
def test_parcels_units_and_history_cannot_be_added_or_changed_in_admin(
    admin_role_client, model, station, clerk
):
    rma = make_rma((ProductFactory(), 1))
    parcel = open_parcel(rma, station, clerk)
    item, _ = services.receive_unit(
        parcel=parcel, code=rma.lines.get().product.sku, station=station, user=clerk
    )
    services.park_parcel(
        parcel=services.receive_parcel(
            code=make_rma((ProductFactory(), 1)).number, station=station, user=clerk
        ),
        station=station,
        user=clerk,
        reason="box empty",
    )
    name = model._meta.model_name
    assert admin_role_client.get(reverse(f"admin:returns_desk_{name}_add")).status_code == 403
    record = model.objects.first()
    change_url = reverse(f"admin:returns_desk_{name}_change", args=[record.pk])
    page = admin_role_client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_role_client.post(change_url, {}).status_code == 403


def test_a_clerk_cannot_open_the_admin(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_rmas_number_program_and_reasons_are_fixed_once_a_parcel_arrived(
    admin_role_client, station, clerk
):
    waiting = make_rma((ProductFactory(), 1))
    arrived = make_rma((ProductFactory(), 1))
    open_parcel(arrived, station, clerk)

    def form(rma):
        url = reverse("admin:returns_desk_returnauthorization_change", args=[rma.pk])
        return admin_role_client.get(url).content.decode()

    # The queues file a received unit by the program and reason it arrived under.
    assert 'name="program"' in form(waiting) and 'name="number"' in form(waiting)
    assert 'name="lines-0-reason"' in form(waiting)
    page = form(arrived)
    assert 'name="program"' not in page and 'name="number"' not in page
    assert 'name="lines-0-reason"' not in page
    assert arrived.program.name in page


def test_a_line_cannot_expect_fewer_units_than_it_already_received(station, clerk):
    product = ProductFactory()
    rma = make_rma((product, 2))
    parcel = open_parcel(rma, station, clerk)
    for _ in range(2):
        services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)
    line = rma.lines.get()
    line.quantity_expected = 1

    # As the admin's form validates it: the received count is shown read-only, so excluded.
    with pytest.raises(ValidationError) as refused:
        line.full_clean(exclude=["quantity_received"])

    assert refused.value.message_dict["quantity_expected"] == [
        "2 units were already received on this line: expect at least that many."
    ]


# --- editing an RMA's lines: its status follows -------------------------------------------------


def change_url(rma: ReturnAuthorization) -> str:
    return reverse("admin:returns_desk_returnauthorization_change", args=[rma.pk])


def unchanged_change_form(client, rma: ReturnAuthorization) -> dict:
    """What the admin's change form of `rma` posts when saved as shown, its lines inline."""
    page = client.get(change_url(rma))
    data = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        initial = formset.initial_form_count()
        forms += formset.forms[:initial]
        prefix = formset.prefix
        data |= {
            f"{prefix}-TOTAL_FORMS": str(initial),
            f"{prefix}-INITIAL_FORMS": str(initial),
        }
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = "on" if value is True else str(value)
    return data


def save_in_admin(client, rma: ReturnAuthorization, **changes) -> str:
    response = client.post(
        change_url(rma), unchanged_change_form(client, rma) | changes, follow=True
    )
    assert response.status_code == 200
    assert "was changed successfully" in response.text, response.text
    return response.text


def receive_units(rma, count, station, clerk, sku=None):
    parcel = open_parcel(rma, station, clerk)
    for _ in range(count):
        services.receive_unit(
            parcel=parcel,
            code=sku or rma.lines.first().product.sku,
            station=station,
            user=clerk,
        )


def test_a_line_expecting_more_makes_a_received_rma_partially_received_again(
    admin_role_client, station, clerk
):
    rma = make_rma((ProductFactory(), 1))
    receive_units(rma, 1, station, clerk)
    rma.refresh_from_db()
    assert rma.status == ReturnAuthorization.Status.RECEIVED

    page = save_in_admin(admin_role_client, rma, **{"lines-0-quantity_expected": "2"})

    rma.refresh_from_db()
    assert rma.status == ReturnAuthorization.Status.PARTIALLY_RECEIVED
    assert f"RMA {rma.number} is now partially received" in page
    # The unit still to come is received as any other, and completes the RMA again.
    receive_units(rma, 1, station, clerk)
    rma.refresh_from_db()
    assert rma.status == ReturnAuthorization.Status.RECEIVED


def test_a_line_expecting_only_what_arrived_completes_the_rma_and_tells_integrations(
    admin_role_client, station, clerk
):
    rma = make_rma((ProductFactory(), 3))
    receive_units(rma, 1, station, clerk)
    assert not OutboxEvent.objects.filter(event_type="rma.completed").exists()

    save_in_admin(admin_role_client, rma, **{"lines-0-quantity_expected": "1"})

    rma.refresh_from_db()
    assert rma.status == ReturnAuthorization.Status.RECEIVED
    completed = OutboxEvent.objects.get(event_type="rma.completed")
    assert completed.payload["rma"] == {
        "number": rma.number,
        "status": "received",
        "order_reference": rma.order_reference,
    }


def test_removing_the_line_nothing_arrived_for_completes_the_rma(admin_role_client, station, clerk):
    rma = make_rma((ProductFactory(), 1), (ProductFactory(), 1))
    receive_units(rma, 1, station, clerk)

    save_in_admin(admin_role_client, rma, **{"lines-1-DELETE": "on"})

    rma.refresh_from_db()
    assert rma.lines.count() == 1
    assert rma.status == ReturnAuthorization.Status.RECEIVED
    assert OutboxEvent.objects.filter(event_type="rma.completed").count() == 1


def test_an_edit_that_leaves_what_is_to_come_alone_leaves_the_status_and_the_outbox_alone(
    admin_role_client, station, clerk
):
    received = make_rma((ProductFactory(), 1))
    receive_units(received, 1, station, clerk)
    awaited = make_rma((ProductFactory(), 2))
    cancelled = make_rma((ProductFactory(), 1), status=ReturnAuthorization.Status.CANCELLED)
    events = OutboxEvent.objects.count()

    page = save_in_admin(admin_role_client, received, customer_name="Ann Other")
    save_in_admin(admin_role_client, awaited, **{"lines-0-quantity_expected": "1"})
    save_in_admin(admin_role_client, cancelled, **{"lines-0-quantity_expected": "3"})

    statuses = [
        ReturnAuthorization.objects.get(pk=rma.pk).status for rma in (received, awaited, cancelled)
    ]
    assert statuses == ["received", "authorised", "cancelled"]
    assert OutboxEvent.objects.count() == events
    assert "is now" not in page


def test_extending_an_expired_rmas_window_authorises_it_again(admin_role_client):
    """Customer service gives the customer more time: the tracking page must not say it passed."""
    today = timezone.localdate()
    rma = make_rma(
        (ProductFactory(), 1),
        issued_on=today - timedelta(days=60),
        expires_on=today - timedelta(days=30),
    )
    assert services.expire_rmas(today=today) == 1

    page = save_in_admin(
        admin_role_client, rma, expires_on=(today + timedelta(days=14)).isoformat()
    )

    rma.refresh_from_db()
    assert rma.status == ReturnAuthorization.Status.AUTHORISED
    assert f"RMA {rma.number} is now authorised." in page
