from decimal import Decimal

import pytest

from inspection import services
from inspection.exceptions import (
    ForgedAnswer,
    InspectedElsewhere,
    InspectionNotOpen,
    InvalidAnswers,
    NoChecklist,
    NotInspectable,
    ReasonRequired,
    ReopenRefused,
    UnknownUnit,
)
from inspection.models import Answer, Inspection
from inspection.selectors import checklist_for, preview_grade, scale_for
from returns_desk.models import ItemEvent, ReturnItem
from tests.conftest import client_at_station
from tests.factories import (
    CategoryFactory,
    CriterionFactory,
    ProductFactory,
    ProgramFactory,
    StationFactory,
    UserFactory,
    make_unit_at,
)

pytestmark = pytest.mark.django_db
Status = ReturnItem.Status


def answer_all(inspection, checklist, values, station, user):
    services.record_answers(
        inspection=inspection,
        answers={c.pk: v for c, v in zip(checklist, values, strict=True)},
        station=station,
        user=user,
    )
    return services.complete_inspection(inspection=inspection, station=station, user=user)


def test_start_inspection_moves_a_received_unit_to_inspecting_and_records_it(
    station, clerk, product, checklist
):
    item = make_unit_at(Status.RECEIVED, station=station, user=clerk, product=product)
    inspection = services.start_inspection(lpn=item.lpn.lower(), station=station, user=clerk)
    item.refresh_from_db()
    assert item.status == Status.INSPECTING
    assert inspection.is_open and inspection.station == station
    event = item.events.last()
    assert (event.action, event.from_status, event.details["inspection"]) == (
        "inspection_started",
        Status.RECEIVED,
        inspection.pk,
    )


def test_complete_inspection_grades_the_unit_and_moves_it_to_inspected(
    station, clerk, product, checklist
):
    item = make_unit_at(Status.RECEIVED, station=station, user=clerk, product=product)
    inspection = services.start_inspection(lpn=item.lpn, station=station, user=clerk)
    # 3 of 3 + 3/4 of 2 + 0 of 1 = 4.5 of 6
    done = answer_all(inspection, checklist, ["pass", "3", "71"], station, clerk)
    item.refresh_from_db()
    assert item.status == Status.INSPECTED
    assert (done.score, done.grade_code, done.critical_failure) == (Decimal("75.00"), "B", False)
    assert done.finished_at is not None
    assert item.events.last().details == {
        "inspection": done.pk,
        "score": "75.00",
        "grade": "B",
        "critical_failure": False,
    }


def test_a_failed_critical_question_caps_the_grade(station, clerk, product, checklist):
    item = make_unit_at(Status.RECEIVED, station=station, user=clerk, product=product)
    inspection = services.start_inspection(lpn=item.lpn, station=station, user=clerk)
    extra = CriterionFactory(category=product.category, question="Wiped", critical=True, weight=1)
    done = answer_all(inspection, [*checklist, extra], ["pass", "4", "90", "fail"], station, clerk)
    assert done.score == Decimal("85.71")
    assert (done.grade_code, done.critical_failure) == ("D", True)


def test_a_category_scale_wins_over_the_default(station, clerk, product, checklist):
    from tests.factories import GradeScaleFactory

    GradeScaleFactory(
        name="Electronics",
        is_default=False,
        category=product.category,
        grades=[("Premium", "premium", 95), ("Used", "used", 0)],
    )
    item = make_unit_at(Status.INSPECTED, station=station, user=clerk, product=product)
    assert item.inspections.get().grade_code == "Premium"


def test_answers_snapshot_the_criterion_so_later_edits_change_no_past_grade(
    station, clerk, product, checklist
):
    item = make_unit_at(Status.INSPECTED, station=station, user=clerk, product=product)
    powers_on = checklist[0]
    powers_on.question, powers_on.weight, powers_on.kind = "Boots in 10 s", 9, "scale"
    powers_on.scale_max = 5
    powers_on.save()
    checklist[2].delete()
    inspection = item.inspections.get()
    inspection.refresh_from_db()
    answers = list(inspection.answers.order_by("order"))
    assert [(a.question, a.kind, a.weight) for a in answers] == [
        ("Powers on", "pass_fail", 3),
        ("Cosmetic", "scale", 2),
        ("Battery", "measure", 1),
    ]
    assert answers[2].criterion is None
    assert (inspection.score, inspection.grade_code) == (Decimal("100.00"), "A")


def test_program_questions_are_asked_only_for_that_program(station, clerk, product, checklist):
    recall = ProgramFactory(code="recall", name="Recall", kind="recall")
    lot = CriterionFactory(category=product.category, program=recall, question="Lot matches")
    ordinary = make_unit_at(Status.RECEIVED, station=station, user=clerk, product=product)
    recalled = make_unit_at(
        Status.RECEIVED,
        station=station,
        user=clerk,
        product=ProductFactory(category=product.category),
        program=recall,
    )
    assert lot not in checklist_for(ordinary)
    assert lot in checklist_for(recalled)


def test_scanning_an_unknown_lpn_is_refused(station, clerk):
    with pytest.raises(UnknownUnit) as refused:
        services.start_inspection(lpn="LPN-99999999", station=station, user=clerk)
    assert refused.value.status == 404
    assert "No unit is labelled 'LPN-99999999'" in refused.value.message


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Status.HELD, "is held for a supervisor"),
        (Status.DISPOSED, "already has a disposition"),
    ],
)
def test_units_held_or_disposed_cannot_be_inspected(
    station, clerk, product, checklist, status, message
):
    item = make_unit_at(status, station=station, user=clerk, product=product)
    with pytest.raises(NotInspectable) as refused:
        services.start_inspection(lpn=item.lpn, station=station, user=clerk)
    assert message in refused.value.message
    assert ReturnItem.objects.get(pk=item.pk).status == status


def test_a_unit_being_inspected_at_another_station_is_refused(station, clerk, product, checklist):
    item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
    other = StationFactory(code="INS-02", kind="inspection")
    with pytest.raises(InspectedElsewhere) as refused:
        services.start_inspection(lpn=item.lpn, station=other, user=clerk)
    assert "being inspected at RCV-01" in refused.value.message


def test_a_unit_left_open_at_a_station_taken_out_of_service_carries_on_where_it_is_scanned(
    station, clerk, product, checklist
):
    item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
    started = Inspection.objects.get(item=item)
    services.record_answers(
        inspection=started, answers={checklist[0].pk: "pass"}, station=station, user=clerk
    )
    station.active = False
    station.save()
    other = StationFactory(code="INS-02", kind="inspection")
    otto = UserFactory(username="otto", role="clerk")

    resumed = services.start_inspection(lpn=item.lpn, station=other, user=otto)

    assert resumed.pk == started.pk
    assert (resumed.station, resumed.inspector) == (other, otto)
    assert resumed.answers.get().value == "pass"
    moved = ItemEvent.objects.get(item=item, action="inspection_moved")
    assert moved.details["from_station"] == "RCV-01"
    graded = answer_all(resumed, checklist, ["pass", "4", "95"], other, otto)
    assert graded.grade_code == "A"


def test_scanning_a_unit_open_at_this_station_again_resumes_its_inspection(
    station, clerk, product, checklist
):
    item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
    again = services.start_inspection(lpn=item.lpn, station=station, user=clerk)
    assert Inspection.objects.filter(item=item).count() == 1
    assert again.is_open


def test_a_unit_whose_category_has_no_checklist_is_refused(station, clerk, scale):
    item = make_unit_at(
        Status.RECEIVED,
        station=station,
        user=clerk,
        product=ProductFactory(category=CategoryFactory(code="toys", name="Toys")),
    )
    with pytest.raises(NoChecklist):
        services.start_inspection(lpn=item.lpn, station=station, user=clerk)
    assert ReturnItem.objects.get(pk=item.pk).status == Status.RECEIVED


def test_missing_required_answers_keep_the_unit_inspecting(station, clerk, product, checklist):
    item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
    inspection = item.inspections.get()
    services.record_answers(
        inspection=inspection, answers={checklist[0].pk: "pass"}, station=station, user=clerk
    )
    with pytest.raises(InvalidAnswers) as refused:
        services.complete_inspection(inspection=inspection, station=station, user=clerk)
    assert set(refused.value.errors) == {checklist[1].pk, checklist[2].pk}
    assert ReturnItem.objects.get(pk=item.pk).status == Status.INSPECTING


def test_optional_questions_may_be_left_blank(station, clerk, product, checklist):
    note = CriterionFactory(category=product.category, kind="text", required=False)
    item = make_unit_at(
        Status.INSPECTED,
        station=station,
        user=clerk,
        product=product,
        answers={checklist[0].pk: "pass", checklist[1].pk: "4", checklist[2].pk: "99", note.pk: ""},
    )
    assert item.inspections.get().grade_code == "A"


def test_out_of_range_answers_save_nothing(station, clerk, product, checklist):
    item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
    inspection = item.inspections.get()
    with pytest.raises(InvalidAnswers) as refused:
        services.record_answers(
            inspection=inspection,
            answers={checklist[0].pk: "pass", checklist[1].pk: "7", checklist[2].pk: "abc"},
            station=station,
            user=clerk,
        )
    assert refused.value.errors == {
        checklist[1].pk: "Give a whole number from 0 to 4.",
        checklist[2].pk: "Give a number, e.g. 87 or 3.5.",
    }
    assert not Answer.objects.exists()


def test_answers_for_another_categorys_questions_are_refused_as_forged(
    station, clerk, product, checklist
):
    foreign = CriterionFactory(category=CategoryFactory(code="apparel", name="Apparel"))
    item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
    with pytest.raises(ForgedAnswer):
        services.record_answers(
            inspection=item.inspections.get(),
            answers={checklist[0].pk: "pass", foreign.pk: "pass"},
            station=station,
            user=clerk,
        )
    assert not Answer.objects.exists()


def test_a_serial_that_differs_from_the_rma_fails_its_question(station, clerk, category, scale):
    product = ProductFactory(category=category, serialised=True)
    serial_check = CriterionFactory(category=category, kind="serial", critical=True)
    item = make_unit_at(
        Status.INSPECTED,
        station=station,
        user=clerk,
        product=product,
        serial="SN-1",
        answers={serial_check.pk: "sn-2"},
    )
    done = item.inspections.get()
    assert (done.grade_code, done.critical_failure) == ("X", True)
    assert done.answers.get().value == "SN-2"


def test_completing_twice_is_refused_and_changes_nothing(station, clerk, product, checklist):
    item = make_unit_at(Status.INSPECTED, station=station, user=clerk, product=product)
    inspection = item.inspections.get()
    with pytest.raises(InspectionNotOpen):
        services.complete_inspection(inspection=inspection, station=station, user=clerk)
    assert item.events.filter(action="inspected").count() == 1


def test_reinspection_supersedes_the_earlier_inspection_and_keeps_it(
    station, clerk, product, checklist
):
    item = make_unit_at(Status.INSPECTED, station=station, user=clerk, product=product)
    first = item.inspections.get()
    second = services.start_inspection(lpn=item.lpn, station=station, user=clerk)
    done = answer_all(second, checklist, ["fail", "0", "10"], station, clerk)
    first.refresh_from_db()
    assert first.superseded and first.grade_code == "A"
    assert not done.superseded and done.grade_code == "X"
    assert list(item.events.values_list("action", flat=True)) == [
        "received",
        "inspection_started",
        "inspected",
        "reinspection_started",
        "inspected",
    ]
    assert item.events.get(action="reinspection_started").details["previous_grade"] == "A"


def test_the_unit_carries_the_grade_of_its_current_inspection_through_regrading_and_reopening(
    station, clerk, supervisor, product, checklist
):
    item = make_unit_at(Status.RECEIVED, station=station, user=clerk, product=product)
    first = services.start_inspection(lpn=item.lpn, station=station, user=clerk)
    answer_all(first, checklist, ["pass", "4", "90"], station, clerk)
    item.refresh_from_db()
    assert item.grade_code == "A"
    second = services.start_inspection(lpn=item.lpn, station=station, user=clerk)
    item.refresh_from_db()
    assert item.grade_code == ""  # the A is superseded; the open inspection has no grade yet
    services.submit_inspection(
        inspection=second,
        answers={c.pk: v for c, v in zip(checklist, ["fail", "0", "10"], strict=True)},
        station=station,
        user=clerk,
    )
    item.refresh_from_db()
    assert item.grade_code == "X"

    disposed = make_unit_at(Status.DISPOSED, station=station, user=clerk, product=product)
    services.reopen_unit(item=disposed, reason="Customer disputes", user=supervisor)
    disposed.refresh_from_db()
    assert disposed.grade_code == disposed.inspections.get().grade_code == "A"


def test_only_a_supervisor_reopens_a_disposed_unit(station, clerk, supervisor, product, checklist):
    item = make_unit_at(Status.DISPOSED, station=station, user=clerk, product=product)
    with pytest.raises(ReopenRefused):
        services.reopen_unit(item=item, reason="Customer disputes", user=clerk)
    with pytest.raises(ReasonRequired):
        services.reopen_unit(item=item, reason="  ", user=supervisor)
    services.reopen_unit(item=item, reason="Customer disputes", user=supervisor)
    item.refresh_from_db()
    assert item.status == Status.INSPECTED
    event = ItemEvent.objects.filter(item=item).last()
    assert (event.action, event.user, event.details) == (
        "reopened",
        supervisor,
        {"reason": "Customer disputes"},
    )
    again = services.start_inspection(lpn=item.lpn, station=station, user=clerk)
    assert again.is_open


def test_reopening_a_unit_without_a_disposition_is_refused(station, supervisor, product, checklist):
    item = make_unit_at(Status.INSPECTED, station=station, user=supervisor, product=product)
    with pytest.raises(NotInspectable):
        services.reopen_unit(item=item, reason="why not", user=supervisor)


def test_a_submitted_score_is_the_one_its_stored_answers_give(station, clerk, scale):
    # 50 of 101 is 0.4950495...: 49.50 as it is, but the answer keeps six places (0.495050),
    # and any later reading of the answers scores 49.51. The grade must agree with them.
    category = CategoryFactory(code="odd", name="Odd")
    criterion = CriterionFactory(category=category, kind="scale", scale_max=101)
    product = ProductFactory(category=category)
    item = make_unit_at(Status.RECEIVED, station=station, user=clerk, product=product)
    inspection = services.start_inspection(lpn=item.lpn, station=station, user=clerk)

    done = services.submit_inspection(
        inspection=inspection, answers={criterion.pk: "50"}, station=station, user=clerk
    )

    stored = Answer.objects.get(inspection=done)
    assert stored.earned == Decimal("0.495050")
    assert done.score == Decimal("49.51")
    done.refresh_from_db()
    assert done.score == Decimal("49.51")


def test_the_score_saved_is_the_score_the_clerk_was_shown(station, clerk, category, scale):
    """Weights 9 and 55, the scale answered 1 of 3: exactly 90.625, shown as 90.63. Scored from
    shares rounded only when stored, the submit saved 90.62."""
    screen = CriterionFactory(category=category, kind="scale", scale_max=3, weight=9)
    boots = CriterionFactory(category=category, question="Boots", weight=55)
    product = ProductFactory(category=category)
    item = make_unit_at(Status.RECEIVED, station=station, user=clerk, product=product)
    started = services.start_inspection(lpn=item.lpn, station=station, user=clerk)
    answers = {screen.pk: "1", boots.pk: "pass"}
    shown = preview_grade(started.item, checklist_for(started.item), answers, scale_for(item))

    saved = services.submit_inspection(
        inspection=started, answers=answers, station=station, user=clerk
    )

    assert Inspection.objects.get(pk=saved.pk).score == shown.grading.score == Decimal("90.62")


def test_a_measured_reading_is_recorded_as_the_clerk_typed_it(station, clerk, category, scale):
    battery = CriterionFactory(
        category=category, question="Battery", kind="measure", min_value=80, max_value=100
    )
    product = ProductFactory(category=category)
    readings = {}
    for typed in ("100", "80.0", "99,5"):
        item = make_unit_at(
            Status.INSPECTED,
            station=station,
            user=clerk,
            product=product,
            answers={battery.pk: typed},
        )
        readings[typed] = Answer.objects.get(inspection__item=item).value

    assert readings == {"100": "100", "80.0": "80", "99,5": "99.5"}


def test_a_choice_answer_keeps_the_option_it_named_when_the_options_are_edited_later(
    client, station, clerk, supervisor, category, scale
):
    screen = CriterionFactory(
        category=category,
        question="Screen",
        kind="choice",
        options=[
            {"label": "Flawless", "points": 3},
            {"label": "Light scratches", "points": 2},
            {"label": "Cracked", "points": 0},
        ],
    )
    works = CriterionFactory(category=category, question="Powers on")
    item = make_unit_at(
        Status.INSPECTED,
        station=station,
        user=clerk,
        product=ProductFactory(category=category),
        answers={screen.pk: "2", works.pk: "pass"},
    )
    # The admin puts the options in another order and rewords them.
    screen.options = [
        {"label": "Cracked", "points": 0},
        {"label": "Scratched", "points": 2},
        {"label": "As new", "points": 3},
    ]
    screen.save()
    client_at_station(client, supervisor, station)

    timeline = client.get(f"/supervisor/units/{item.lpn}/").content.decode()
    german = client.get(
        f"/supervisor/units/{item.lpn}/", HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()

    assert "2 · Light scratches" in timeline
    assert "Scratched" not in timeline
    assert "<td>Pass</td>" in timeline
    assert "<td>Bestanden</td>" in german
