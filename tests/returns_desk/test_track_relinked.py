"""A parcel opened on one customer's RMA, parked, and linked by a supervisor to another's: the
units already received stay the first customer's, on their page, in their mail and webhooks."""

import pytest

from inspection import services as inspection
from returns_desk import services
from returns_desk.models import OutboxEvent, ReceivingException
from tests.disposition.helpers import CONDITION_FOR_GRADE, make_checklist
from tests.factories import CategoryFactory, ProductFactory, make_rma, open_parcel

pytestmark = pytest.mark.django_db


def test_a_relinked_parcel_leaves_its_units_news_with_their_own_customer(
    client, station, clerk, supervisor
):
    checklist = make_checklist(CategoryFactory(code="electronics", name="Electronics"))
    kettle = ProductFactory(name="Electric kettle", category=checklist["condition"].category)
    toaster = ProductFactory(name="Chrome toaster")
    anna = make_rma((kettle, 1), number="RMA-7001", customer_email="anna@example.com")
    bert = make_rma((toaster, 1), number="RMA-7002", customer_email="bert@example.com")
    parcel = open_parcel(anna, station, clerk)
    item, _ = services.receive_unit(parcel=parcel, code=kettle.sku, station=station, user=clerk)
    # The box also holds Bert's paperwork: parked, and linked to his RMA for his toaster.
    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="wrong RMA")
    parked = parcel.exceptions.get(kind=ReceivingException.Kind.PARKED)
    services.link_parcel_to_rma(exception=parked, rma=bert, reason="Bert's", user=supervisor)
    started = inspection.start_inspection(lpn=item.lpn, station=station, user=clerk)
    answers = {checklist["condition"].pk: CONDITION_FOR_GRADE["A"]}
    inspection.submit_inspection(inspection=started, answers=answers, station=station, user=clerk)

    bert_page = client.post("/track/", {"number": "RMA-7002", "email": "bert@example.com"})
    anna_page = client.post("/track/", {"number": "RMA-7001", "email": "anna@example.com"})

    assert "We checked in Electric kettle." not in bert_page.text
    assert "We checked in Electric kettle." in anna_page.text
    graded = OutboxEvent.objects.get(event_type="unit.graded")
    assert graded.aggregate_key == "RMA-7001"
    assert graded.payload["rma"]["number"] == "RMA-7001"
    assert item.rma == anna
