from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from disposition import selectors, services
from disposition.exceptions import (
    ApprovalRefused,
    NoRuleMatched,
    NotAwaitingApproval,
    NotDecidable,
    OverrideInvalid,
    StaleRecommendation,
)
from disposition.models import Disposition, Lot, RefundInstruction, RepairOrder
from disposition.selectors import ITEM_RELATED, ITEM_ROWS, with_configuration
from returns_desk.models import ItemEvent, ReturnItem
from tests.disposition.helpers import make_rule

pytestmark = pytest.mark.django_db
Status = ReturnItem.Status


def test_decide_disposition_takes_the_recommendation_and_releases_the_refund(
    make_inspected, rules, station, clerk, config
):
    item = make_inspected("A", price="40.00")

    disposition, created = services.decide_disposition(item=item, station=station, user=clerk)

    item.refresh_from_db()
    assert created
    assert item.status == Status.DISPOSED
    assert disposition.chosen_outcome == disposition.recommended_outcome == "restock"
    assert disposition.rule == rules["restock"]
    assert disposition.destination_bin == "RESTOCK-A"
    assert disposition.grade_code == "A"
    assert {"condition": "grade", "matched": True, "explanation": "grade A is one of A"} in (
        disposition.explanation
    )
    refund = RefundInstruction.objects.get(item=item)
    assert refund.status == RefundInstruction.Status.RELEASED
    assert refund.amount == Decimal("40.00")
    assert ItemEvent.objects.filter(item=item, action="disposition_decided").count() == 1


def test_deciding_a_unit_twice_returns_the_first_decision(
    make_inspected, rules, station, clerk, config
):
    item = make_inspected("A")
    first, _ = services.decide_disposition(item=item, station=station, user=clerk)

    again, created = services.decide_disposition(
        item=item, station=station, user=clerk, outcome="liquidate", override_reason="other"
    )

    assert not created
    assert again == first
    assert Disposition.objects.filter(item=item).count() == 1
    assert RefundInstruction.objects.filter(item=item).count() == 1


def test_decide_disposition_refuses_a_unit_not_yet_inspected(rules, station, clerk, config):
    from tests.factories import make_unit_at

    item = make_unit_at(Status.RECEIVED, station=station, user=clerk)

    with pytest.raises(NotDecidable):
        services.decide_disposition(item=item, station=station, user=clerk)
    assert not Disposition.objects.exists()


def test_decide_disposition_refuses_a_rule_set_without_a_catch_all(
    make_inspected, rules, station, clerk, config
):
    rules["catch_all"].delete()
    item = make_inspected("B")

    with pytest.raises(NoRuleMatched):
        services.decide_disposition(item=item, station=station, user=clerk)
    item.refresh_from_db()
    assert item.status == Status.INSPECTED


def test_decide_disposition_refuses_a_recommendation_for_an_older_grade(
    make_inspected, rules, station, clerk, config
):
    item = make_inspected("A")
    current = item.inspections.get().pk

    with pytest.raises(StaleRecommendation):
        services.decide_disposition(
            item=item, station=station, user=clerk, inspection_id=current + 1
        )
    assert not Disposition.objects.exists()


def test_an_override_needs_a_reason(make_inspected, rules, station, clerk, config):
    item = make_inspected("A")

    with pytest.raises(OverrideInvalid):
        services.decide_disposition(item=item, station=station, user=clerk, outcome="liquidate")
    with pytest.raises(OverrideInvalid):
        services.decide_disposition(
            item=item, station=station, user=clerk, outcome="liquidate", override_reason="other"
        )
    assert not Disposition.objects.exists()


def test_a_cheap_override_is_decided_at_once_and_goes_to_the_default_destination(
    make_inspected, rules, station, clerk, config
):
    from disposition.models import DefaultDestination

    DefaultDestination.objects.create(outcome="liquidate", destination_bin="LIQ-9")
    item = make_inspected("A", value="30.00")

    disposition, _ = services.decide_disposition(
        item=item,
        station=station,
        user=clerk,
        outcome="liquidate",
        override_reason="worse_than_graded",
    )

    item.refresh_from_db()
    assert item.status == Status.DISPOSED
    assert disposition.is_override
    assert disposition.destination_bin == "LIQ-9"
    assert disposition.approval == ""


def test_an_override_of_a_valuable_unit_waits_for_a_supervisor_with_its_refund_pending(
    make_inspected, rules, station, clerk, config
):
    item = make_inspected("A", value="250.00")

    disposition, _ = services.decide_disposition(
        item=item, station=station, user=clerk, outcome="repair", override_reason="missing_parts"
    )

    item.refresh_from_db()
    assert item.status == Status.AWAITING_APPROVAL
    assert disposition.status == Disposition.Status.AWAITING_APPROVAL
    assert item.refund.status == RefundInstruction.Status.PENDING
    assert not RepairOrder.objects.exists()


def test_an_override_to_a_configured_outcome_waits_whatever_the_value(
    make_inspected, rules, station, clerk, config
):
    item = make_inspected("A", value="5.00")

    disposition, _ = services.decide_disposition(
        item=item,
        station=station,
        user=clerk,
        outcome="quarantine",
        override_reason="other",
        override_note="smells of smoke",
    )

    assert disposition.status == Disposition.Status.AWAITING_APPROVAL


def test_a_supervisor_approves_an_override_and_the_refund_is_released(
    make_inspected, rules, station, clerk, supervisor, config
):
    item = make_inspected("A", value="250.00")
    disposition, _ = services.decide_disposition(
        item=item, station=station, user=clerk, outcome="repair", override_reason="missing_parts"
    )

    services.approve_override(disposition=disposition, user=supervisor, note="ok")

    item.refresh_from_db()
    disposition.refresh_from_db()
    assert item.status == Status.DISPOSED
    assert disposition.approval == Disposition.Approval.APPROVED
    assert disposition.approved_by == supervisor
    assert item.refund.status == RefundInstruction.Status.RELEASED
    assert RepairOrder.objects.get(item=item).cycle == 1
    services.approve_override(disposition=disposition, user=supervisor)
    assert ItemEvent.objects.filter(item=item, action="override_approved").count() == 1


def test_a_clerk_cannot_approve_an_override(make_inspected, rules, station, clerk, config):
    item = make_inspected("A", value="250.00")
    disposition, _ = services.decide_disposition(
        item=item, station=station, user=clerk, outcome="repair", override_reason="missing_parts"
    )

    with pytest.raises(ApprovalRefused):
        services.approve_override(disposition=disposition, user=clerk)
    item.refresh_from_db()
    assert item.status == Status.AWAITING_APPROVAL


def test_a_rejected_override_sends_the_unit_back_to_be_decided_again(
    make_inspected, rules, station, clerk, supervisor, config
):
    item = make_inspected("A", value="250.00")
    disposition, _ = services.decide_disposition(
        item=item, station=station, user=clerk, outcome="repair", override_reason="missing_parts"
    )

    services.reject_override(disposition=disposition, user=supervisor, note="It works fine")
    item.refresh_from_db()
    assert item.status == Status.INSPECTED
    second, created = services.decide_disposition(item=item, station=station, user=clerk)

    assert created
    assert second.chosen_outcome == "restock"
    disposition.refresh_from_db()
    assert disposition.status == Disposition.Status.REJECTED
    assert item.refund.disposition == second
    assert item.refund.status == RefundInstruction.Status.RELEASED


@pytest.mark.parametrize("answer", ["approve", "reject"])
def test_an_override_cannot_be_answered_once_its_unit_was_reopened_and_graded_again(
    answer, make_inspected, rules, checklist, station, clerk, supervisor, config
):
    from inspection import services as inspection

    item = make_inspected("A", value="250.00")
    waiting, _ = services.decide_disposition(
        item=item,
        station=station,
        user=clerk,
        outcome="liquidate",
        override_reason="other",
        override_note="scuffed",
    )
    inspection.reopen_unit(item=item, reason="Grade looked wrong", user=supervisor)
    again = inspection.start_inspection(lpn=item.lpn, station=station, user=clerk)
    inspection.submit_inspection(
        inspection=again, answers={checklist["condition"].pk: "2"}, station=station, user=clerk
    )

    with pytest.raises(NotAwaitingApproval, match="reopened"):
        if answer == "approve":
            services.approve_override(disposition=waiting, user=supervisor)
        else:
            services.reject_override(disposition=waiting, user=supervisor, note="no")

    item.refresh_from_db()
    assert (item.status, item.grade_code) == (Status.INSPECTED, "C")
    assert item.refund.status == RefundInstruction.Status.PENDING
    decided, _ = services.decide_disposition(item=item, station=station, user=clerk)
    assert decided.chosen_outcome == "repair"


def test_a_unit_for_a_partner_joins_the_open_lot_and_is_put_away_by_scanning_it(
    make_inspected, rules, partner, station, clerk, config
):
    first = make_inspected("X")
    second = make_inspected("X")

    one, _ = services.decide_disposition(item=first, station=station, user=clerk)
    two, _ = services.decide_disposition(item=second, station=station, user=clerk)

    assert one.lot == two.lot
    assert one.lot.status == Lot.Status.OPEN
    assert one.put_away_code == one.lot.code
    services.put_away(item=first, code=one.lot.code.lower(), station=station, user=clerk)
    first.refresh_from_db()
    assert first.status == Status.PUT_AWAY


def test_put_away_refuses_the_wrong_location(make_inspected, rules, station, clerk, config):
    from disposition.exceptions import WrongLocation

    item = make_inspected("A")
    services.decide_disposition(item=item, station=station, user=clerk)

    with pytest.raises(WrongLocation):
        services.put_away(item=item, code="RESTOCK-B", station=station, user=clerk)
    item.refresh_from_db()
    assert item.status == Status.DISPOSED


def _configuration_of(item: ReturnItem) -> tuple:
    rma = item.rma_line.rma
    return (rma.program, rma.policy, item.rma_line.reason, item.product.category)


def test_a_locked_unit_reads_its_program_policy_reason_and_category_from_the_cache(
    make_inspected, django_assert_num_queries
):
    unit = ReturnItem.objects.select_related(*ITEM_RELATED).get(pk=make_inspected("A").pk)
    with_configuration(ReturnItem.objects.select_related(*ITEM_ROWS).get(pk=unit.pk))

    item = ReturnItem.objects.select_related(*ITEM_ROWS).get(pk=unit.pk)
    # Outside a request the configuration token is read on every cached read.
    with django_assert_num_queries(1):
        with_configuration(item)
        assert _configuration_of(item) == _configuration_of(unit)


def test_a_unit_whose_configuration_the_cache_does_not_hold_yet_reads_it(
    make_inspected, monkeypatch
):
    unit = ReturnItem.objects.select_related(*ITEM_RELATED).get(pk=make_inspected("A").pk)
    monkeypatch.setattr(selectors, "cached", lambda key, compute: defaultdict(dict))

    item = with_configuration(ReturnItem.objects.select_related(*ITEM_ROWS).get(pk=unit.pk))

    assert _configuration_of(item) == _configuration_of(unit)


def test_a_unit_keeps_the_warranty_it_was_returned_under_however_long_it_waits(
    make_inspected, station, clerk, config
):
    """Bought 360 days before the RMA was issued, on a 365-day warranty, decided 10 days on."""
    config.warranty_days = 365
    config.save()
    make_rule(10, "return_to_vendor", name="Under warranty: back to the maker", in_warranty="yes")
    make_rule(999, "liquidate", destination_bin="LIQ-1")
    issued = timezone.localdate() - timedelta(days=10)
    item = make_inspected("B", issued_on=issued, purchased_on=issued - timedelta(days=360))

    recommendation = selectors.recommend(
        ReturnItem.objects.select_related(*ITEM_RELATED).get(pk=item.pk)
    )

    assert recommendation.facts.days_since_purchase == 360
    assert recommendation.facts.in_warranty
    assert recommendation.rule.name == "Under warranty: back to the maker"
