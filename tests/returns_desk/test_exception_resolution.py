"""Supervisors resolve the exception queue: link, create an RMA, release, refuse, write off."""

import importlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import translation

from inspection.services import start_inspection
from returns_desk import services
from returns_desk.exceptions import CannotResolve, ExceptionNotOpen, ReasonRequired
from returns_desk.models import (
    ItemEvent,
    Parcel,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    TrackingNumber,
)
from tests.conftest import client_at_station
from tests.disposition.helpers import make_checklist
from tests.factories import (
    PolicyFactory,
    ProductFactory,
    ProgramFactory,
    ReasonFactory,
    make_rma,
    make_unit_at,
    open_parcel,
)
from tests.returns_desk.helpers import receiving_counts

pytestmark = pytest.mark.django_db

Resolution = ReceivingException.Resolution


@pytest.fixture
def unmatched(station, clerk) -> ReceivingException:
    parcel = services.park_unmatched_parcel(
        code="1Z-LOST", station=station, user=clerk, reason="no paperwork"
    )
    return parcel.exceptions.get()


@pytest.fixture
def held(station, clerk) -> ReceivingException:
    item = make_unit_at(ReturnItem.Status.HELD, station=station, user=clerk)
    return item.exceptions.get()


@pytest.fixture
def supervisor_client(client, supervisor, station):
    return client_at_station(client, supervisor, station)


def url(name: str, exception: ReceivingException) -> str:
    return reverse(f"supervisor:{name}", args=[exception.pk])


def resolution_counts() -> dict:
    return {
        **receiving_counts(),
        "open": ReceivingException.objects.filter(status="open").count(),
        "rmas": ReturnAuthorization.objects.count(),
        "tracking": TrackingNumber.objects.count(),
    }


def test_linking_an_unmatched_parcel_reopens_it_for_the_clerk_who_received_it(
    unmatched, supervisor, station, clerk
):
    product = ProductFactory()
    rma = make_rma((product, 1))

    parcel = services.link_parcel_to_rma(
        exception=unmatched, rma=rma, reason="label torn; customer phoned", user=supervisor
    )

    unmatched.refresh_from_db()
    assert parcel.status == Parcel.Status.OPEN and parcel.rma == rma
    assert unmatched.status == ReceivingException.Status.RESOLVED
    assert unmatched.resolution == Resolution.LINKED
    assert unmatched.resolved_by == supervisor
    assert TrackingNumber.objects.get(number="1Z-LOST").rma == rma
    linked = ItemEvent.objects.get(parcel=parcel, action="parcel_linked")
    assert linked.details["rma"] == rma.number and linked.user == supervisor
    assert ItemEvent.objects.filter(parcel=parcel, action="exception_resolved").exists()
    # Its units now flow on: the clerk receives them and they await inspection.
    item, _ = services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)
    assert item.status == ReturnItem.Status.RECEIVED


def test_an_exception_lists_its_unit_and_rma_and_follows_the_parcel_to_the_rma_it_is_linked_to(
    station, clerk, supervisor
):
    first = make_rma((ProductFactory(), 1))
    parcel = open_parcel(first, station, clerk)
    item, _ = services.receive_exception_unit(
        parcel=parcel, code="ALIEN-1", kind="wrong_item", station=station, user=clerk
    )
    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="wrong RMA")
    wrong_item = item.exceptions.get()
    assert (wrong_item.lpn, wrong_item.rma_number, wrong_item.program) == (
        item.lpn,
        first.number,
        first.program,
    )
    parked = parcel.exceptions.get(kind=ReceivingException.Kind.PARKED)
    assert (parked.lpn, parked.rma_number) == ("", first.number)

    second = make_rma((ProductFactory(), 1), program=ProgramFactory())
    services.link_parcel_to_rma(exception=parked, rma=second, reason="relabelled", user=supervisor)

    wrong_item.refresh_from_db()
    assert wrong_item.status == ReceivingException.Status.OPEN
    assert (wrong_item.rma_number, wrong_item.program) == (second.number, second.program)


def test_scanning_a_linked_parcel_again_finds_it_by_its_code(unmatched, supervisor, station, clerk):
    rma = make_rma((ProductFactory(), 1))
    parcel = services.link_parcel_to_rma(exception=unmatched, rma=rma, reason="ok", user=supervisor)

    assert services.receive_parcel(code="1z-lost", station=station, user=clerk) == parcel


def test_a_units_exception_cannot_be_resolved_by_linking_or_creating_an_rma(
    held, station, clerk, supervisor
):
    PolicyFactory().programs.add(program := ProgramFactory())
    services.park_parcel(parcel=held.parcel, station=station, user=clerk, reason="odd box")
    rma = make_rma((ProductFactory(), 1))
    before = resolution_counts()

    with pytest.raises(CannotResolve, match=held.item.lpn):
        services.link_parcel_to_rma(exception=held, rma=rma, reason="x", user=supervisor)
    with pytest.raises(CannotResolve, match=held.item.lpn):
        services.create_rma_for_parcel(
            exception=held,
            program=program,
            channel="web",
            lines=[services.NewLine(product=ProductFactory(), quantity=1, reason=ReasonFactory())],
            reason="x",
            user=supervisor,
        )

    held.parcel.refresh_from_db()
    assert held.parcel.status == Parcel.Status.PARKED
    assert resolution_counts() == before


def test_a_parcel_cannot_be_linked_to_a_cancelled_rma(unmatched, supervisor):
    rma = make_rma((ProductFactory(), 1), status=ReturnAuthorization.Status.CANCELLED)
    before = resolution_counts()

    with pytest.raises(services.RmaNotReceivable):
        services.link_parcel_to_rma(exception=unmatched, rma=rma, reason="x", user=supervisor)

    assert resolution_counts() == before


def test_an_rma_is_created_for_an_unmatched_parcel(unmatched, supervisor):
    PolicyFactory().programs.add(program := ProgramFactory())
    product = ProductFactory()

    rma = services.create_rma_for_parcel(
        exception=unmatched,
        program=program,
        channel="web",
        lines=[services.NewLine(product=product, quantity=2, reason=ReasonFactory())],
        reason="customer e-mailed",
        user=supervisor,
    )

    unmatched.refresh_from_db()
    assert rma.number == f"EXC-{unmatched.parcel_id:06d}"
    assert rma.lines.get().quantity_expected == 2
    assert unmatched.parcel.status == Parcel.Status.OPEN and unmatched.parcel.rma == rma
    assert unmatched.resolution == Resolution.RMA_CREATED


def test_a_parcel_parked_again_gets_a_second_rma_of_its_own(unmatched, station, clerk, supervisor):
    PolicyFactory().programs.add(program := ProgramFactory())

    def create_rma(exception, quantity):
        return services.create_rma_for_parcel(
            exception=exception,
            program=program,
            channel="web",
            lines=[
                services.NewLine(
                    product=ProductFactory(), quantity=quantity, reason=ReasonFactory()
                )
            ],
            reason="what the box holds",
            user=supervisor,
        )

    first = create_rma(unmatched, 1)
    parcel = services.park_parcel(
        parcel=unmatched.parcel, station=station, user=clerk, reason="holds something else"
    )
    second = create_rma(parcel.exceptions.get(status=ReceivingException.Status.OPEN), 2)

    assert (first.number, second.number) == (
        f"EXC-{parcel.pk:06d}",
        f"EXC-{parcel.pk:06d}-2",
    )
    parcel.refresh_from_db()
    assert parcel.rma == second and parcel.status == Parcel.Status.OPEN


def test_releasing_a_held_unit_sends_it_to_inspection(held, supervisor):
    services.release_exception(exception=held, reason="right item after all", user=supervisor)

    held.refresh_from_db()
    held.item.refresh_from_db()
    assert held.item.status == ReturnItem.Status.RECEIVED
    assert held.resolution == Resolution.RELEASED
    released = ItemEvent.objects.get(item=held.item, action="released")
    assert (released.from_status, released.to_status) == ("held", "received")


@pytest.fixture
def unidentified(station, clerk) -> ReceivingException:
    """A unit labelled as a wrong item whose barcode matched no product."""
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)
    item, _ = services.receive_exception_unit(
        parcel=parcel,
        code="MYSTERY-42",
        kind=ReceivingException.Kind.WRONG_ITEM,
        station=station,
        user=clerk,
    )
    assert item.product is None
    return item.exceptions.get()


def test_an_unidentified_unit_is_released_as_the_product_the_supervisor_names(
    unidentified, supervisor, inspection_station
):
    product = ProductFactory(sku="AP-TEE-S")
    make_checklist(product.category)
    before = resolution_counts()

    with pytest.raises(CannotResolve, match="MYSTERY|matched no product"):
        services.release_exception(exception=unidentified, reason="a shirt", user=supervisor)
    assert resolution_counts() == before

    services.release_exception(
        exception=unidentified, reason="a shirt", user=supervisor, product=product
    )

    item = ReturnItem.objects.get(pk=unidentified.item_id)
    assert (item.status, item.product) == (ReturnItem.Status.RECEIVED, product)
    released = ItemEvent.objects.get(item=item, action="released")
    assert released.details["identified_as"] == "AP-TEE-S"
    # No longer a dead end: it opens on the inspection desk with its category's checklist.
    inspection = start_inspection(lpn=item.lpn, station=inspection_station, user=supervisor)
    assert inspection.item == item


def test_the_exception_screen_asks_what_an_unidentified_unit_is(supervisor_client, unidentified):
    ProductFactory(sku="AP-TEE-S", gtin="4006381333931")
    resolve = url("exception_resolve", unidentified)
    assert (
        "Identified as (SKU or barcode)"
        in supervisor_client.get(url("exception", unidentified)).text
    )

    unknown = supervisor_client.post(
        resolve, {"action": "release", "reason": "shirt", "product": "NO-SUCH-SKU"}
    )
    assert unknown.status_code == 422
    assert "No product has SKU or barcode NO-SUCH-SKU" in unknown.text
    missing = supervisor_client.post(resolve, {"action": "release", "reason": "shirt"})
    assert missing.status_code == 409
    assert "matched no product" in missing.text
    assert ReturnItem.objects.get(pk=unidentified.item_id).status == ReturnItem.Status.HELD

    done = supervisor_client.post(
        resolve, {"action": "release", "reason": "shirt", "product": "4006381333931"}
    )
    assert done.status_code == 200
    assert ReturnItem.objects.get(pk=unidentified.item_id).product.sku == "AP-TEE-S"


def test_an_identified_unit_is_not_asked_what_it_is(supervisor_client, held):
    assert (
        "Identified as (SKU or barcode)" not in supervisor_client.get(url("exception", held)).text
    )


def test_releasing_a_parcel_without_an_rma_is_refused_and_changes_nothing(unmatched, supervisor):
    before = resolution_counts()

    with pytest.raises(CannotResolve):
        services.release_exception(exception=unmatched, reason="go", user=supervisor)

    assert resolution_counts() == before


def test_releasing_a_held_late_parcel_reopens_it(station, clerk, supervisor):
    policy = PolicyFactory(name="Strict", window_days=1, late_arrival="hold")
    rma = make_rma((ProductFactory(), 1), policy=policy)
    parcel = open_parcel(rma, station, clerk)
    assert parcel.status == Parcel.Status.PARKED

    services.release_exception(
        exception=parcel.exceptions.get(), reason="goodwill", user=supervisor
    )

    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.OPEN


def test_refusing_a_parked_parcel_closes_it_and_its_held_units(station, clerk, supervisor):
    rma = make_rma((ProductFactory(), 1))
    parcel = open_parcel(rma, station, clerk)
    item, _ = services.receive_exception_unit(
        parcel=parcel, code="ALIEN-1", kind="wrong_item", station=station, user=clerk
    )
    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="box of junk")
    parked = parcel.exceptions.get(kind=ReceivingException.Kind.PARKED)

    services.refuse_exception(exception=parked, reason="not ours", user=supervisor)

    parcel.refresh_from_db()
    item.refresh_from_db()
    assert parcel.status == Parcel.Status.CLOSED
    assert item.status == ReturnItem.Status.CLOSED
    assert not parcel.exceptions.filter(status="open").exists()
    assert set(parcel.exceptions.values_list("resolution", flat=True)) == {Resolution.REFUSED}
    assert ItemEvent.objects.filter(item=item, action="returned_to_sender").exists()


@pytest.fixture
def parked_with_units(station, clerk, inspection_station):
    """A parcel parked after three units were received from it, one already being inspected."""
    product = ProductFactory()
    make_checklist(product.category)
    rma = make_rma((product, 3))
    parcel = open_parcel(rma, station, clerk)
    units = [
        services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)[0]
        for _ in range(3)
    ]
    start_inspection(lpn=units[2].lpn, station=inspection_station, user=clerk)
    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="box was opened")
    return parcel.exceptions.get(kind=ReceivingException.Kind.PARKED), units


def integrity_violations() -> list[str]:
    out = StringIO()
    try:
        call_command("check_integrity", stdout=out)
    except CommandError:
        return out.getvalue().splitlines()
    return []


def test_refusing_a_parked_parcel_closes_its_units_awaiting_inspection_and_keeps_the_others(
    parked_with_units, supervisor
):
    parked, (first, second, inspecting) = parked_with_units

    refused = services.refuse_exception(exception=parked, reason="not ours", user=supervisor)

    for unit in (first, second):
        unit.refresh_from_db()
        assert unit.status == ReturnItem.Status.CLOSED
        closing = ItemEvent.objects.get(item=unit, action="returned_to_sender")
        assert (closing.from_status, closing.to_status) == ("received", "closed")
        # A unit of the parcel was kept: each leaving tells the customer itself, not the parcel.
        assert closing.details == {"reason": "not ours", "resolution": Resolution.REFUSED}
    inspecting.refresh_from_db()
    assert inspecting.status == ReturnItem.Status.INSPECTING
    assert not ItemEvent.objects.filter(item=inspecting, action="returned_to_sender").exists()
    parcel_event = ItemEvent.objects.get(
        parcel=parked.parcel, item__isnull=True, action="returned_to_sender"
    )
    assert parcel_event.details["kept"] == [inspecting.lpn]
    assert (refused.closed, refused.kept) == ([first.lpn, second.lpn], [inspecting.lpn])
    # They were received, then sent back: their RMA line still counts them.
    assert first.rma_line.rma.lines.get().quantity_received == 3
    assert integrity_violations() == []


def test_writing_off_a_parked_parcel_closes_its_received_and_held_units(station, clerk, supervisor):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)
    received, _ = services.receive_unit(
        parcel=parcel, code=product.sku, station=station, user=clerk
    )
    held, _ = services.receive_exception_unit(
        parcel=parcel, code="ALIEN-1", kind="wrong_item", station=station, user=clerk
    )
    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="soaked")
    parked = parcel.exceptions.get(kind=ReceivingException.Kind.PARKED)

    services.write_off_exception(exception=parked, reason="water damage", user=supervisor)

    assert set(
        ItemEvent.objects.filter(action="written_off", item__isnull=False).values_list(
            "item__lpn", "from_status", "to_status"
        )
    ) == {(received.lpn, "received", "closed"), (held.lpn, "held", "closed")}
    assert (
        "kept"
        not in ItemEvent.objects.get(parcel=parcel, item__isnull=True, action="written_off").details
    )
    assert integrity_violations() == []


def test_a_unit_back_at_received_after_leaving_for_inspection_is_kept_with_its_parcel_refused(
    parked_with_units, supervisor, clerk, station
):
    parked, (first, second, inspecting) = parked_with_units
    with transaction.atomic():
        # Put back on the shelf without a grade: no longer on the receiving side with its box.
        locked = ReturnItem.objects.select_for_update().get(pk=inspecting.pk)
        services.move_item(
            locked,
            to_status=ReturnItem.Status.RECEIVED,
            action="put_back",
            user=clerk,
            station=station,
        )

    refused = services.refuse_exception(exception=parked, reason="not ours", user=supervisor)

    inspecting.refresh_from_db()
    assert inspecting.status == ReturnItem.Status.RECEIVED
    assert refused.kept == [inspecting.lpn]


def test_the_supervisor_is_told_which_units_left_with_the_parcel_and_which_stayed(
    supervisor_client, parked_with_units
):
    parked, (first, second, inspecting) = parked_with_units

    response = supervisor_client.post(
        url("exception_resolve", parked), {"action": "refuse", "reason": "not ours"}
    )

    assert response.status_code == 200
    assert "2 units from the parcel were closed with it." in response.text
    assert f"{inspecting.lpn} was already past receiving and is kept." in response.text


def test_writing_off_a_held_unit_closes_it(held, supervisor):
    services.write_off_exception(exception=held, reason="damaged beyond use", user=supervisor)

    held.item.refresh_from_db()
    assert held.item.status == ReturnItem.Status.CLOSED
    assert ItemEvent.objects.get(item=held.item, action="written_off").details["reason"] == (
        "damaged beyond use"
    )


def test_an_exception_is_resolved_once(held, supervisor):
    services.release_exception(exception=held, reason="ok", user=supervisor)

    with pytest.raises(ExceptionNotOpen):
        services.write_off_exception(exception=held, reason="again", user=supervisor)


def test_every_resolution_needs_a_reason(held, supervisor):
    with pytest.raises(ReasonRequired):
        services.release_exception(exception=held, reason="  ", user=supervisor)


# --- the screen ---------------------------------------------------------------------------------


def test_a_clerk_cannot_see_or_resolve_exceptions(clerk_client, held):
    assert clerk_client.get(url("exception", held)).status_code == 403
    response = clerk_client.post(
        url("exception_resolve", held), {"action": "release", "reason": "x"}
    )
    assert response.status_code == 403
    held.refresh_from_db()
    assert held.status == ReceivingException.Status.OPEN


def test_resolution_actions_refuse_a_get(supervisor_client, held):
    for name in ["exception_link", "exception_create_rma", "exception_resolve"]:
        assert supervisor_client.get(url(name, held)).status_code == 405


def test_a_supervisor_finds_the_rma_by_the_customers_email(supervisor_client, unmatched):
    rma = make_rma((ProductFactory(), 1), customer_email="Ann@Example.com")

    page = supervisor_client.get(url("exception", unmatched), {"find": "ann@example.COM"})

    assert page.status_code == 200
    assert f"Link to {rma.number}" in page.content.decode()


def test_a_supervisor_links_a_parcel_from_the_screen(supervisor_client, unmatched):
    rma = make_rma((ProductFactory(), 1), tracking="TRK-9")

    response = supervisor_client.post(
        url("exception_link", unmatched), {"rma": rma.number.lower(), "reason": "phoned"}
    )

    assert response.status_code == 200
    assert f"Linked to RMA {rma.number}" in response.content.decode()
    unmatched.refresh_from_db()
    assert unmatched.resolution == Resolution.LINKED


def test_the_htmx_answer_is_the_exception_partial(supervisor_client, held):
    response = supervisor_client.post(
        url("exception_resolve", held),
        {"action": "write_off", "reason": "smashed"},
        headers={"HX-Request": "true"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.strip().startswith('<div id="exception">') and "<html" not in page
    assert response.headers["HX-Trigger"].startswith('{"exceptionResolved"')


def test_creating_an_rma_from_the_screen_reopens_the_parcel(supervisor_client, unmatched):
    PolicyFactory().programs.add(program := ProgramFactory())
    product = ProductFactory(sku="MUG-1")
    reason = ReasonFactory()

    response = supervisor_client.post(
        url("exception_create_rma", unmatched),
        {
            "program": program.pk,
            "channel": "web",
            "lines": "mug-1 2\n",
            "return_reason": reason.pk,
            "customer_email": "bo@example.com",
            "reason": "customer e-mailed",
        },
    )

    assert response.status_code == 200
    rma = ReturnAuthorization.objects.get(number=f"EXC-{unmatched.parcel_id:06d}")
    assert rma.lines.get().product == product
    unmatched.parcel.refresh_from_db()
    assert unmatched.parcel.status == Parcel.Status.OPEN


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("exception_link", {"rma": "NO-SUCH-RMA", "reason": "x"}),
        ("exception_link", {"rma": "RMA\x00", "reason": "x"}),
        ("exception_link", {"rma": "A" * 5000, "reason": "x"}),
        ("exception_resolve", {"action": "explode", "reason": "x"}),
        ("exception_resolve", {"action": "release", "reason": ""}),
        ("exception_resolve", {"action": "release", "reason": "go"}),
        ("exception_create_rma", {"lines": "NOPE 1", "reason": "x"}),
        ("exception_create_rma", {"lines": "\x00\x01", "reason": "x"}),
    ],
)
def test_bad_resolution_input_gets_a_4xx_and_changes_nothing(
    supervisor_client, unmatched, name, data
):
    before = resolution_counts()

    response = supervisor_client.post(url(name, unmatched), data)

    assert 400 <= response.status_code < 500
    assert 'role="alert"' in response.content.decode()
    assert resolution_counts() == before


def test_resolving_twice_from_the_screen_says_it_is_done(supervisor_client, held):
    data = {"action": "release", "reason": "ok"}
    supervisor_client.post(url("exception_resolve", held), data)

    again = supervisor_client.post(url("exception_resolve", held), data)

    assert again.status_code == 409
    assert "already resolved" in again.content.decode()


def test_an_unknown_exception_is_a_404(supervisor_client):
    assert supervisor_client.get("/supervisor/exceptions/999999/").status_code == 404


def test_the_supervisor_reads_an_exception_in_their_own_language(
    supervisor_client, unmatched, held
):
    # Both raised at an English desk; the supervisor's browser asks for German.
    german = {"HTTP_ACCEPT_LANGUAGE": "de"}
    queue = supervisor_client.get("/supervisor/queues/exceptions/", **german).text
    page = supervisor_client.get(url("exception", unmatched), **german).text

    assert "Keine RMA passt zu „1Z-LOST“. no paperwork" in queue
    assert "Keine RMA passt zu „1Z-LOST“. no paperwork" in page  # the clerk's own words as typed
    kind = "Falscher Artikel" if held.kind == "wrong_item" else "Mehrlieferung"
    assert f"{held.lpn}: {held.scanned_code} als {kind} " in queue
    assert unmatched.message == "No RMA matches '1Z-LOST'. no paperwork"


def test_an_exception_raised_before_its_wording_was_kept_reads_as_stored(unmatched):
    ReceivingException.objects.filter(pk=unmatched.pk).update(
        wording={}, message="Kein RMA passt: alte Meldung"
    )
    migration = importlib.import_module("returns_desk.migrations.0024_exception_wording")

    class Editor:  # what the migration uses of a schema editor, outside one
        connection = connection

        def execute(self, sql):
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.keep_stored_messages(None, Editor())

    unmatched.refresh_from_db()
    assert unmatched.wording == {"note": "Kein RMA passt: alte Meldung"}
    with translation.override("nl"):
        assert unmatched.text == "Kein RMA passt: alte Meldung"
