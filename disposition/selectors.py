"""Reads disposition needs in several places: a unit's facts, its recommendation, its refund."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext, ngettext

from inspection.models import Inspection
from returns_desk.configcache import cached
from returns_desk.models import ProductCategory, Program, ReasonCode, ReturnItem, ReturnPolicy

from . import refunds, rules
from .models import (
    WORKSHOP_OUTCOMES,
    DefaultDestination,
    Disposition,
    DispositionRule,
    DispositionSettings,
    Outcome,
    Partner,
    RefundTreatment,
    RepairOrder,
)

# Where a unit goes when neither a rule nor a default destination names a place for it.
FALLBACK_BIN = "EXCEPTIONS"
ITEM_RELATED = (
    "product__category",
    "rma_line__rma__program",
    "rma_line__rma__policy",
    "rma_line__reason",
)
# ITEM_RELATED without the configuration rows, which with_configuration() adds from the cache.
ITEM_ROWS = ("product", "rma_line__rma")


def _configuration_rows() -> dict[str, dict]:
    return {
        "program": {row.pk: row for row in Program.objects.all()},
        "policy": {row.pk: row for row in ReturnPolicy.objects.all()},
        "reason": {row.pk: row for row in ReasonCode.objects.all()},
        "category": {row.pk: row for row in ProductCategory.objects.all()},
    }


def with_configuration(item: ReturnItem) -> ReturnItem:
    """Give a unit read with ITEM_ROWS what ITEM_RELATED adds: its RMA's program and policy,
    its line's reason and its product's category, from the configuration cache.

    Joined to the unit's locked read, these four small tables made PostgreSQL plan an
    eleven-table join, 4 ms on each of a connection's first decisions. A row the cache does not
    hold yet (made since this request's configuration was read) is read when first used.
    """
    rows = cached("unit configuration", _configuration_rows)
    attach = [(item.product, "category")] if item.product else []
    if line := item.rma_line:
        attach += [(line, "reason"), (line.rma, "program"), (line.rma, "policy")]
    for row, name in attach:
        related = rows[name].get(getattr(row, f"{name}_id"))
        if related is not None:
            setattr(row, name, related)
    return item


def current_inspection(item: ReturnItem) -> Inspection | None:
    """The unit's grade: its finished inspection that no re-inspection replaced."""
    # At most one is not superseded (one_active_inspection_per_unit): get(), not an ordered
    # first(), whose ORDER BY Django builds by comparing it with every selected column.
    try:
        return Inspection.objects.get(item=item, superseded=False, finished_at__isnull=False)
    except Inspection.DoesNotExist:
        return None


def active_rules() -> QuerySet[DispositionRule]:
    return (
        DispositionRule.objects.filter(active=True)
        .select_related("partner")
        .prefetch_related("programs", "reasons", "categories")
        .order_by("order", "pk")
    )


def disposition_settings() -> DispositionSettings:
    """DispositionSettings.load(), read once per configuration change."""
    return cached("disposition settings", DispositionSettings.load)


def rule_set() -> list[tuple[DispositionRule, rules.Conditions]]:
    """The active rules in order with their conditions, read once per configuration change."""

    def read() -> list[tuple[DispositionRule, rules.Conditions]]:
        ruleset = [(rule, rule.conditions()) for rule in active_rules()]
        # Every decision unpickles this; the prefetched links, already in the conditions,
        # took four fifths of that time (1.1 of 1.4 ms for 14 rules).
        for rule, _ in ruleset:
            rule._prefetched_objects_cache.clear()
        return ruleset

    return cached("rule set", read)


def facts_for(
    item: ReturnItem, inspection: Inspection | None, config: DispositionSettings
) -> rules.Facts:
    """What the rules know of a unit (related rows loaded with ITEM_RELATED).

    Under warranty: returned on a warranty program, or bought within the warranty period.
    Recall: returned on a recall program.

    Days since purchase are counted to the day the return was authorised: the customer asked
    then, and a unit that waited a few days for its inspection (or a decision made again
    after a reopening) must not fall out of its warranty on the way.
    """
    line = item.rma_line
    rma = line.rma if line else None
    days = None
    if rma and rma.purchased_on:
        days = max((rma.issued_on - rma.purchased_on).days, 0)
    kind = rma.program.kind if rma else ""
    product = item.product
    return rules.Facts(
        program=rma.program.code if rma else "",
        reason=line.reason.code if line else "",
        # Rules name grades upper-cased; a scale may code its grades in any case.
        grade=inspection.grade_code.upper() if inspection else "",
        category=product.category.code if product else "",
        critical_failure=inspection.critical_failure if inspection else False,
        unit_value=product.unit_value if product else Decimal(0),
        in_warranty=kind == Program.Kind.WARRANTY
        or (days is not None and days <= config.warranty_days),
        recall=kind == Program.Kind.RECALL,
        days_since_purchase=days,
    )


@dataclass
class Destination:
    bin: str = ""
    partner: Partner | None = None

    def __str__(self) -> str:
        return str(self.partner) if self.partner else self.bin


def default_destination(outcome: str) -> Destination:
    """Where an outcome picked by override goes: its configured default, else the fallback."""
    default = cached(
        ("default destination", outcome),
        lambda: (
            DefaultDestination.objects.select_related("partner").filter(outcome=outcome).first()
        ),
    )
    if default is None or not (default.destination_bin or default.partner):
        return Destination(bin=FALLBACK_BIN)
    return Destination(bin=default.destination_bin, partner=default.partner)


@dataclass
class Recommendation:
    """What the rules say for a unit, and why."""

    facts: rules.Facts
    inspection: Inspection | None
    rule: DispositionRule | None
    checks: list[rules.Check]
    outcome: str
    destination: Destination
    refund_treatment: str
    repairs_done: int = 0
    end_of_life: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def outcome_label(self) -> str:
        return Outcome(self.outcome).label

    @property
    def refund_label(self) -> str:
        return RefundTreatment(self.refund_treatment).label

    @property
    def why(self) -> list[rules.Check]:
        """The conditions the fired rule actually constrains (none for a catch-all)."""
        return [check for check in self.checks if check.constrained]


def repairs_done(item: ReturnItem) -> int:
    return RepairOrder.objects.filter(item=item, status=RepairOrder.Status.DONE).count()


def recommend(
    item: ReturnItem,
    config: DispositionSettings | None = None,
    *,
    inspection: Inspection | None = None,
) -> Recommendation:
    """Run the active rules on the unit (related rows loaded with ITEM_RELATED), graded by
    `inspection` when the caller holds it, else by its current inspection.

    A unit repaired the configured maximum number of times is not sent to the bench again:
    its recommendation becomes the end-of-life outcome. Raises nothing: a rule set without a
    catch-all yields a recommendation without a rule, which the service refuses.
    """
    config = config or disposition_settings()
    inspection = inspection or current_inspection(item)
    facts = facts_for(item, inspection, config)
    trace = rules.first_match(rule_set(), facts)
    rule = trace.fired
    if rule is None:
        return Recommendation(
            facts,
            inspection,
            None,
            [],
            Outcome.QUARANTINE,
            Destination(bin=FALLBACK_BIN),
            RefundTreatment.NONE,
            notes=[gettext("No rule matched: the rule set needs a catch-all.")],
        )
    recommendation = Recommendation(
        facts=facts,
        inspection=inspection,
        rule=rule,
        checks=trace.checks,
        outcome=rule.outcome,
        destination=Destination(bin=rule.destination_bin, partner=rule.partner),
        refund_treatment=rule.refund,
    )
    if rule.outcome in WORKSHOP_OUTCOMES:
        recommendation.repairs_done = repairs_done(item)
        if recommendation.repairs_done >= config.max_repair_cycles:
            recommendation.end_of_life = True
            recommendation.outcome = config.end_of_life_outcome
            recommendation.destination = default_destination(config.end_of_life_outcome)
            recommendation.notes.append(
                ngettext(
                    "Already repaired %(times)s time (the most allowed is %(most)s): end of life.",
                    "Already repaired %(times)s times (the most allowed is %(most)s): end of life.",
                    recommendation.repairs_done,
                )
                % {"times": recommendation.repairs_done, "most": config.max_repair_cycles}
            )
    if not (recommendation.destination.bin or recommendation.destination.partner):
        recommendation.destination = Destination(bin=FALLBACK_BIN)
    return recommendation


def refund_for(item: ReturnItem, treatment: str, grade: str) -> refunds.RefundAmount:
    """The refund for a unit under a treatment (related rows loaded with ITEM_RELATED)."""
    line = item.rma_line
    if line is None:
        return refunds.compute_refund(
            price_paid=Decimal(0),
            treatment=treatment,
            fee_percent=Decimal(0),
            fee_waived=False,
            deduction_percent=Decimal(0),
        )
    policy = line.rma.policy
    return refunds.compute_refund(
        price_paid=line.price_paid,
        treatment=treatment,
        fee_percent=policy.restocking_fee_percent,
        fee_waived=line.reason_id in _fee_waived_reasons(policy),
        deduction_percent=refunds.grade_deduction(policy.grade_deductions, grade),
    )


def _fee_waived_reasons(policy) -> frozenset[int]:
    return cached(
        ("fee waived for", policy.pk),
        lambda: frozenset(policy.fee_waived_for.values_list("pk", flat=True)),
    )


def active_disposition(item: ReturnItem) -> Disposition | None:
    return (
        Disposition.objects.select_related("partner", "lot", "decided_by", "approved_by")
        .filter(item=item, status__in=Disposition.ACTIVE)
        .first()
    )
