"""The recommended disposition, offered on the inspection desk with the grade it follows from."""

from django.urls import reverse
from django.utils.translation import gettext

from inspection.models import Inspection
from inspection.next_step import NextStep
from returns_desk.models import ReturnItem
from returns_desk.templatetags.l10n_extras import money

from .selectors import Recommendation, recommend, refund_for, with_configuration


def recommended_disposition(inspection: Inspection) -> NextStep | None:
    """Confirming posts to the unit's disposition, as Enter on its disposition page does.

    Nothing is offered for a unit no longer waiting for its disposition, or when no rule
    matched: the disposition page shows why, and an override needs its reason there.
    """
    item = inspection.item
    if item.status != ReturnItem.Status.INSPECTED or inspection.superseded:
        return None
    recommendation = recommend(with_configuration(item), inspection=inspection)
    if recommendation.rule is None:
        return None
    outcome = recommendation.outcome_label
    return NextStep(
        summary=f"{outcome} → {recommendation.destination}",
        confirm_label=gettext("Confirm %(outcome)s") % {"outcome": outcome},
        url=reverse("disposition:decide", args=[item.lpn]),
        # The grade confirmed: the decision is refused if the unit is graded again meanwhile.
        fields={"inspection": str(inspection.pk)},
        detail=_refund_words(item, recommendation),
        warnings=tuple(recommendation.notes),
    )


def _refund_words(item: ReturnItem, recommendation: Recommendation) -> str:
    """The refund the decision releases, as its disposition page words it: "Full refund · 19.00"."""
    refund = refund_for(item, recommendation.refund_treatment, recommendation.facts.grade)
    if not refund.amount:
        return recommendation.refund_label
    return f"{recommendation.refund_label} · {money(refund.amount)}"
