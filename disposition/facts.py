"""What disposition tells the core: about a unit (the API's unit read, the tracking page,
whether receiving may take its serial again), and which rules name a program, reason or
category the admin is about to delete."""

from collections.abc import Sequence

from django.db.models import Model
from django.utils.translation import gettext

from returns_desk.models import ProductCategory, Program, ReasonCode, ReturnItem

from .models import Disposition, DispositionRule, Outcome, RefundInstruction


def disposition_facts(items: list[ReturnItem]) -> dict[int, dict]:
    """Each unit's active disposition and its refund, in two queries whatever the count."""
    facts: dict[int, dict] = {}
    active = Disposition.objects.filter(
        item__in=items, status__in=Disposition.ACTIVE
    ).select_related("partner")
    for disposition in active:
        facts.setdefault(disposition.item_id, {})["disposition"] = {
            "status": disposition.status,
            "recommended_outcome": disposition.recommended_outcome,
            "outcome": disposition.chosen_outcome,
            "destination": disposition.partner.name
            if disposition.partner
            else disposition.destination_bin,
            "decided_at": disposition.decided_at.isoformat(),
        }
    for refund in RefundInstruction.objects.filter(item__in=items):
        facts.setdefault(refund.item_id, {})["refund"] = {
            "status": refund.status,
            "treatment": refund.treatment,
            "amount": str(refund.amount),
        }
    return facts


def restocked(item: ReturnItem) -> bool:
    """Put away on our sellable stock's shelf by a decision still in force: it may be sold and
    come back. One restocked through a partner's lot is still here until the lot ships."""
    return (
        item.status == ReturnItem.Status.PUT_AWAY
        and Disposition.objects.filter(
            item=item,
            status=Disposition.Status.DECIDED,
            chosen_outcome=Outcome.RESTOCK,
            lot__isnull=True,
        ).exists()
    )


RULE_CONDITIONS = {Program: "programs", ReasonCode: "reasons", ProductCategory: "categories"}


def rules_naming(rows: Sequence[Model]) -> list[str]:
    """Each rule that names one of `rows` in its conditions, as the admin lists it."""
    condition = RULE_CONDITIONS.get(type(rows[0]))
    if condition is None:
        return []
    rules = (
        DispositionRule.objects.filter(**{f"{condition}__in": rows}).distinct().order_by("order")
    )
    # Deleted, the row would drop out of the rule's list; an emptied list means "any".
    return [
        gettext("Disposition rule %(order)s “%(name)s” (it would then match any)")
        % {"order": rule.order, "name": rule.name}
        for rule in rules
    ]
