"""What disposition tells the core about a unit (the API's unit read, the tracking page, and
whether receiving may take its serial again)."""

from returns_desk.models import ReturnItem

from .models import Disposition, Outcome, RefundInstruction


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
