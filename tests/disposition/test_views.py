import re

import pytest
from django.urls import reverse

from disposition.models import Disposition
from returns_desk.models import ReturnItem, Station
from tests.conftest import client_at_station
from tests.disposition.helpers import CONDITION_FOR_GRADE
from tests.factories import ProductFactory, StationFactory, UserFactory, make_unit_at

pytestmark = pytest.mark.django_db
Status = ReturnItem.Status


@pytest.fixture
def unit(make_inspected, rules, config):
    return make_inspected("A", value="250.00")


def decide_url(item) -> str:
    return f"/disposition/units/{item.lpn}/"


def test_every_disposition_page_needs_a_login(client, unit):
    for url in ["/disposition/", decide_url(unit), "/disposition/lots/", "/disposition/repairs/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_user_without_a_role_is_refused(client, unit, station):
    client_at_station(client, UserFactory(username="nobody"), station)

    assert client.get("/disposition/").status_code == 403
    assert client.post(decide_url(unit)).status_code == 403
    unit.refresh_from_db()
    assert unit.status == Status.INSPECTED


def test_post_only_views_refuse_get(clerk_client, unit):
    for url in ["/disposition/scan/", f"{decide_url(unit)}approve/", f"{decide_url(unit)}reject/"]:
        assert clerk_client.get(url).status_code == 405


def test_the_desk_asks_for_an_inspection_station_first(client, clerk):
    receiving = StationFactory(code="RCV-09", kind=Station.Kind.RECEIVING)
    client_at_station(client, clerk, receiving)

    response = client.get("/disposition/")

    assert response.status_code == 302
    assert response["Location"].startswith("/station/")


def test_scanning_an_inspected_unit_shows_its_recommendation_and_why(clerk_client, unit):
    response = clerk_client.post("/disposition/scan/", {"code": unit.lpn.lower()})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Restock → RESTOCK-A" in html
    assert "Rule 10" in html
    assert "grade A is one of A" in html
    assert "data-confirm" in html


def test_the_htmx_scan_answers_with_the_desk_partial_only(clerk_client, unit):
    response = clerk_client.post("/disposition/scan/", {"code": unit.lpn}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="desk"')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("code", "status"),
    [("", 422), ("LPN-99999999", 404), ("x" * 5000, 422), ("\x00\x01bin", 422), ("ÅÄÖ", 422)],
)
def test_bad_scans_get_a_message_and_a_4xx(clerk_client, unit, code, status):
    response = clerk_client.post("/disposition/scan/", {"code": code}, HTTP_HX_REQUEST="true")

    assert response.status_code == status
    assert 'role="alert"' in response.content.decode()
    assert not Disposition.objects.exists()


def test_confirming_decides_the_unit_and_shows_the_put_away_and_the_label(clerk_client, unit):
    inspection = unit.inspections.get().pk

    response = clerk_client.post(
        decide_url(unit), {"inspection": inspection}, HTTP_HX_REQUEST="true"
    )

    unit.refresh_from_db()
    html = response.content.decode()
    assert response.status_code == 200
    assert unit.status == Status.DISPOSED
    assert "Put away:" in html
    assert "RESTOCK-A" in html
    assert 'class="lpn-label disposition-label"' in html
    assert 'name="pending" value="' + unit.lpn in html
    assert "unitDisposed" in response["HX-Trigger"]


def test_a_repeated_decision_is_harmless(clerk_client, unit):
    clerk_client.post(decide_url(unit))

    again = clerk_client.post(decide_url(unit), {"outcome": "donate", "override_reason": "other"})

    assert again.status_code == 200
    assert "already decided" in again.content.decode()
    assert Disposition.objects.get().chosen_outcome == "restock"


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "teleport", "override_reason": "other"},
        {"outcome": "donate", "override_reason": "because"},
        {"outcome": "donate"},
        {"inspection": "not-a-number"},
        {"override_note": "x" * 301, "outcome": "donate", "override_reason": "other"},
    ],
)
def test_a_bad_decision_is_refused_with_a_4xx_and_changes_nothing(clerk_client, unit, data):
    response = clerk_client.post(decide_url(unit), data, HTTP_HX_REQUEST="true")

    unit.refresh_from_db()
    assert 400 <= response.status_code < 500
    assert 'role="alert"' in response.content.decode()
    assert unit.status == Status.INSPECTED
    assert not Disposition.objects.exists()


def test_deciding_an_unknown_unit_is_a_404_with_a_message(clerk_client, unit):
    response = clerk_client.post("/disposition/units/LPN-NOPE/")

    assert response.status_code == 404
    assert "No unit is labelled" in response.content.decode()


def test_a_valuable_override_waits_and_a_clerk_cannot_approve_it(clerk_client, unit):
    response = clerk_client.post(
        decide_url(unit), {"outcome": "liquidate", "override_reason": "worse_than_graded"}
    )
    unit.refresh_from_db()
    assert response.status_code == 200
    assert unit.status == Status.AWAITING_APPROVAL
    html = response.content.decode()
    assert "Waiting for a supervisor" in html
    assert f'{unit.lpn}</a> Liquidate <span class="tag">awaiting approval</span>' in html

    refused = clerk_client.post(f"{decide_url(unit)}approve/")

    unit.refresh_from_db()
    assert refused.status_code == 403
    assert unit.status == Status.AWAITING_APPROVAL


def test_a_supervisor_approves_an_override_from_the_units_page(
    client, clerk_client, unit, supervisor
):
    clerk_client.post(
        decide_url(unit),
        {"outcome": "liquidate", "override_reason": "other", "override_note": "scratched lid"},
    )
    client.force_login(supervisor)

    page = client.get(decide_url(unit))
    response = client.post(f"{decide_url(unit)}approve/", {"note": "fine"}, HTTP_HX_REQUEST="true")

    unit.refresh_from_db()
    assert "Approve override" in page.content.decode()
    assert response.status_code == 200
    assert unit.status == Status.DISPOSED
    assert Disposition.objects.get().approved_by == supervisor


def test_a_supervisor_rejects_an_override_with_a_reason(client, clerk_client, unit, supervisor):
    clerk_client.post(
        decide_url(unit),
        {"outcome": "liquidate", "override_reason": "other", "override_note": "scratched lid"},
    )
    client.force_login(supervisor)

    no_reason = client.post(f"{decide_url(unit)}reject/", {"note": ""})
    response = client.post(f"{decide_url(unit)}reject/", {"note": "it is fine"})

    unit.refresh_from_db()
    assert no_reason.status_code == 422
    assert response.status_code == 200
    assert unit.status == Status.INSPECTED
    assert Disposition.objects.get().status == Disposition.Status.REJECTED


def test_scanning_the_location_label_confirms_the_put_away(clerk_client, unit):
    clerk_client.post(decide_url(unit))

    wrong = clerk_client.post("/disposition/scan/", {"code": "RESTOCK-Z", "pending": unit.lpn})
    right = clerk_client.post("/disposition/scan/", {"code": "restock-a", "pending": unit.lpn})

    unit.refresh_from_db()
    assert wrong.status_code == 422
    assert right.status_code == 200
    assert "put away in RESTOCK-A" in right.content.decode()
    assert "unitPutAway" in right["HX-Trigger"]
    assert unit.status == Status.PUT_AWAY


def test_the_disposition_label_page_prints_the_lpn_barcode_and_outcome(clerk_client, unit):
    clerk_client.post(decide_url(unit))

    page = clerk_client.get(f"{decide_url(unit)}label/")

    html = page.content.decode()
    assert page.status_code == 200
    assert f'aria-label="Barcode {unit.lpn}"' in html
    assert "RESTOCK" in html


def test_the_decide_screen_runs_a_bounded_number_of_queries(
    clerk_client, unit, make_inspected, django_assert_max_num_queries
):
    for grade in ["A", "C", "X"]:
        clerk_client.post(decide_url(make_inspected(grade)))

    # Rules, settings, user, roles and station come from the configuration cache: the session,
    # its token, the unit, its grade and the station's recent decisions.
    with django_assert_max_num_queries(5):
        response = clerk_client.get(decide_url(unit))
    assert response.status_code == 200
    # The session, its token, the unit; locks on the unit (with its refund) and its decision,
    # its grade; the decision, the move, the refund, two history and outbox events, the
    # customer's queued e-mail; then only the recent decisions: the screen shows the decision,
    # refund and e-mail as written.
    with django_assert_max_num_queries(17):
        response = clerk_client.post(decide_url(unit), HTTP_HX_REQUEST="true")
    assert "RESTOCK-A" in response.text
    assert "Refund:" in response.text


def test_a_decision_into_a_partners_lot_costs_only_the_lots_lock_and_count_more(
    clerk_client, make_inspected, rules, django_assert_max_num_queries
):
    for grade in ["A", "C", "X"]:
        clerk_client.post(decide_url(make_inspected(grade)))
    unit = make_inspected("X")

    # As a decision to a bin, plus the lot's lock and its count of units: the decision is
    # written with its lot.
    with django_assert_max_num_queries(19):
        response = clerk_client.post(decide_url(unit), HTTP_HX_REQUEST="true")
    assert "GreenCycle" in response.text
    decision = Disposition.objects.get(item=unit, status=Disposition.Status.DECIDED)
    assert decision.lot is not None and decision.lot.partner == rules["recycle"].partner


def test_the_desk_lists_the_stations_eight_latest_decisions_newest_first(
    clerk_client, make_inspected, rules
):
    units = [make_inspected(grade) for grade in "AAAAACCCX"]
    for item in units:
        clerk_client.post(decide_url(item))

    html = clerk_client.get("/disposition/").content.decode()

    recent = html[html.index('id="recent-scans"') :]
    shown = re.findall(r'href="/disposition/units/([^/]+)/">[^<]+</a> ([^<]+?)\s*</li>', recent)
    outcomes = {"A": "Restock", "C": "Repair", "X": "Recycle"}
    assert shown == [(item.lpn, outcomes[item.grade_code]) for item in units[:0:-1]]


def grade_at_the_inspection_desk(client, checklist, station, clerk, grade: str):
    """Grade a unit on the inspection desk; return it and that desk's answer."""
    product = ProductFactory(category=checklist["condition"].category, unit_value="50.00")
    item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
    inspection = item.inspections.get()
    answer = {f"c-{checklist['condition'].pk}": CONDITION_FOR_GRADE[grade]}
    url = reverse("inspection:complete", args=[inspection.pk])
    return item, client.post(url, answer, HTTP_HX_REQUEST="true")


def test_the_grade_comes_with_its_recommendation_confirmed_in_one_post(
    clerk_client, checklist, rules, config, station, clerk
):
    item, graded = grade_at_the_inspection_desk(clerk_client, checklist, station, clerk, "A")

    result = graded.text[graded.text.index('id="result"') :]
    assert "Restock → RESTOCK-A" in result
    # The refund as the unit's disposition page words it, amount and all.
    amount = re.search(r"Refund minus restocking fee · ([\d.,]+)", result)[1]
    page = clerk_client.get(decide_url(item)).text
    assert re.search(rf"Refund minus restocking fee</strong> · {re.escape(amount)}\b", page)
    confirm = re.search(
        r'<form method="post" action="([^"]+)" class="confirm">(.*?)</form>', result, re.S
    )
    assert confirm[1] == decide_url(item)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', confirm[2]))
    assert fields["inspection"] == str(item.inspections.get().pk)

    # The form posts without htmx: the answer is the disposition desk, its label and put-away.
    decided = clerk_client.post(confirm[1], fields)
    assert decided.status_code == 200
    assert "<html" in decided.text and "put it away and scan RESTOCK-A" in decided.text
    disposition = Disposition.objects.get(item=item)
    assert disposition.chosen_outcome == "restock" and not disposition.is_override
    item.refresh_from_db()
    assert item.status == Status.DISPOSED


def test_no_confirm_is_offered_when_no_rule_matches(
    clerk_client, checklist, rules, config, station, clerk
):
    rules["catch_all"].delete()
    item, graded = grade_at_the_inspection_desk(clerk_client, checklist, station, clerk, "B")

    assert "graded B" in graded.text
    assert "data-confirm" not in graded.text
    # The disposition page says why; the grade links to it.
    assert f'href="{decide_url(item)}" data-key="F2"' in graded.text


def test_a_confirm_sent_after_the_unit_was_graded_again_is_refused(
    clerk_client, checklist, rules, config, station, clerk
):
    item, graded = grade_at_the_inspection_desk(clerk_client, checklist, station, clerk, "A")
    stale = {"inspection": str(item.inspections.get().pk)}
    # A second look before the first grade's confirm came in: scanned again, graded scrap.
    clerk_client.post(reverse("inspection:scan"), {"code": item.lpn})
    clerk_client.post(
        reverse("inspection:complete", args=[item.inspections.get(superseded=False).pk]),
        {f"c-{checklist['condition'].pk}": CONDITION_FOR_GRADE["X"]},
    )

    item.refresh_from_db()
    assert item.grade_code == "X"

    refused = clerk_client.post(decide_url(item), stale)

    assert refused.status_code == 409
    assert not Disposition.objects.filter(item=item).exists()


def test_a_unit_not_graded_yet_opens_on_the_inspection_desk(
    clerk_client, checklist, rules, station, clerk
):
    product = ProductFactory(category=checklist["condition"].category, sku="EL-PHONE")
    unit = make_unit_at(Status.RECEIVED, station=station, user=clerk, product=product)

    response = clerk_client.post("/disposition/scan/", {"code": unit.lpn}, HTTP_HX_REQUEST="true")

    opened = f"/inspection/?opened={unit.lpn}"
    assert response.status_code == 200 and response["HX-Redirect"] == opened
    unit.refresh_from_db()
    assert unit.status == Status.INSPECTING
    assert unit.inspections.get().station == station
    desk = clerk_client.get(opened).text
    assert f"{unit.lpn}: EL-PHONE" in desk and "Answer the checklist." in desk
    assert 'id="checklist"' in desk
    # Without htmx (a scan before the scripts ran) the browser is sent there the same way.
    again = clerk_client.post("/disposition/scan/", {"code": unit.lpn})
    assert again.status_code == 302 and again["Location"] == opened


def test_a_unit_that_cannot_be_inspected_stays_on_the_disposition_desk_with_why(
    clerk_client, rules, station, clerk
):
    no_checklist = ProductFactory()
    unit = make_unit_at(Status.RECEIVED, station=station, user=clerk, product=no_checklist)

    response = clerk_client.post("/disposition/scan/", {"code": unit.lpn}, HTTP_HX_REQUEST="true")

    assert response.status_code == 409
    assert "HX-Redirect" not in response
    assert "There is no checklist for" in response.text
    unit.refresh_from_db()
    assert unit.status == Status.RECEIVED


def test_the_inspection_desk_names_only_the_unit_open_at_this_station(
    clerk_client, checklist, station, clerk
):
    product = ProductFactory(category=checklist["condition"].category)
    unit = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)

    assert "Answer the checklist." in clerk_client.get(f"/inspection/?opened={unit.lpn}").text
    forged = clerk_client.get("/inspection/?opened=LPN-99999999").text
    assert 'id="checklist"' in forged and "Answer the checklist." not in forged
