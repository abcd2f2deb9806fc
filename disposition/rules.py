"""Matching a unit's facts against an ordered rule set: the first rule whose conditions all hold.

Pure functions over plain values, with no database, so the order, each condition and the
catch-all can be tested (and explained to an admin) without saving anything.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def parse_codes(text: str) -> frozenset[str]:
    """Grade codes as typed by an admin ("a, B ,c") -> {"A", "B", "C"}."""
    return frozenset(code.strip().upper() for code in text.split(",") if code.strip())


def tri(value: str) -> bool | None:
    """'yes' / 'no' / 'any' -> True / False / None (None matches both)."""
    return {"yes": True, "no": False}.get(value)


@dataclass(frozen=True)
class Facts:
    """What the rules may ask of a unit; codes are the natural keys of programs, reasons..."""

    program: str = ""
    reason: str = ""
    grade: str = ""
    category: str = ""
    critical_failure: bool = False
    unit_value: Decimal = Decimal(0)
    in_warranty: bool = False
    recall: bool = False
    days_since_purchase: int | None = None


@dataclass(frozen=True)
class Conditions:
    """A rule's conditions; an empty set, None or an open bound means 'any'."""

    programs: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()
    grades: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    critical_failure: bool | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    in_warranty: bool | None = None
    recall: bool | None = None
    min_days: int | None = None
    max_days: int | None = None

    @property
    def is_catch_all(self) -> bool:
        return not any(check.constrained for check in evaluate(self, Facts()))


@dataclass(frozen=True)
class Check:
    """One condition of one rule against the facts, in words an admin can read."""

    name: str
    constrained: bool
    matched: bool
    # The words are put together when read: a unit is tried against every rule before the one
    # that fires, yet only that one's are shown or kept, and translating the rest took most of
    # a decision's matching time.
    words: Callable[[], str] = field(repr=False, compare=False)

    @property
    def explanation(self) -> str:
        return self.words()


@dataclass
class Trace[R]:
    """Every rule tried, in order, with its checks; `fired` is the first that matched."""

    tried: list[tuple[R, list[Check]]] = field(default_factory=list)
    fired: R | None = None

    @property
    def checks(self) -> list[Check]:
        """The checks of the rule that fired (empty if none did)."""
        return self.tried[-1][1] if self.fired is not None else []


# The conditions as the explanations name them; `Check.name` stays the English key.
CONDITION_NAMES = {
    "program": gettext_lazy("program"),
    "reason": gettext_lazy("reason"),
    "grade": gettext_lazy("grade"),
    "category": gettext_lazy("category"),
    "critical failure": gettext_lazy("critical failure"),
    "under warranty": gettext_lazy("under warranty"),
    "recall": gettext_lazy("recall"),
}


def _member(name: str, allowed: frozenset[str], value: str) -> Check:
    def words() -> dict:
        return {
            "name": CONDITION_NAMES[name],
            "value": value or _("none"),
            "allowed": ", ".join(sorted(allowed)),
        }

    if not allowed:
        return Check(name, False, True, lambda: _("any %(name)s") % words())
    if value in allowed:
        return Check(
            name, True, True, lambda: _("%(name)s %(value)s is one of %(allowed)s") % words()
        )
    return Check(
        name, True, False, lambda: _("%(name)s %(value)s is not one of %(allowed)s") % words()
    )


def _flag(name: str, wanted: bool | None, value: bool) -> Check:
    def words() -> dict:
        return {
            "name": CONDITION_NAMES[name],
            "state": _("yes") if value else _("no"),
            "wanted": _("yes") if wanted else _("no"),
        }

    if wanted is None:
        return Check(name, False, True, lambda: _("%(name)s: either") % words())
    return Check(
        name,
        True,
        wanted == value,
        lambda: _("%(name)s is %(state)s, rule wants %(wanted)s") % words(),
    )


def _value(low: Decimal | None, high: Decimal | None, value: Decimal) -> Check:
    if low is None and high is None:
        return Check("unit value", False, True, lambda: _("any unit value"))
    matched = (low is None or value >= low) and (high is None or value < high)

    def words() -> dict:
        bounds = _(" and ").join(
            part
            for part in (
                _("at least %(low)s") % {"low": low} if low is not None else "",
                _("below %(high)s") % {"high": high} if high is not None else "",
            )
            if part
        )
        return {"value": value, "bounds": bounds}

    if matched:
        return Check(
            "unit value", True, True, lambda: _("unit value %(value)s is %(bounds)s") % words()
        )
    return Check(
        "unit value", True, False, lambda: _("unit value %(value)s is not %(bounds)s") % words()
    )


def _days(low: int | None, high: int | None, days: int | None) -> Check:
    name = "days since purchase"
    if low is None and high is None:
        return Check(name, False, True, lambda: _("any days since purchase"))

    def bounds() -> str:
        if high is None:
            return _("%(low)s or more") % {"low": low}
        if low is None:
            return _("up to %(high)s") % {"high": high}
        return _("%(low)s to %(high)s") % {"low": low, "high": high}

    if days is None:
        return Check(
            name,
            True,
            False,
            lambda: _("purchase date unknown; rule wants %(bounds)s days") % {"bounds": bounds()},
        )
    matched = (low is None or days >= low) and (high is None or days <= high)
    return Check(
        name,
        True,
        matched,
        lambda: (
            _("%(days)s days since purchase; rule wants %(bounds)s")
            % {"days": days, "bounds": bounds()}
        ),
    )


def evaluate(conditions: Conditions, facts: Facts) -> list[Check]:
    """Every condition of a rule against the facts, constrained or not."""
    return [
        _member("program", conditions.programs, facts.program),
        _member("reason", conditions.reasons, facts.reason),
        _member("grade", conditions.grades, facts.grade),
        _member("category", conditions.categories, facts.category),
        _flag("critical failure", conditions.critical_failure, facts.critical_failure),
        _value(conditions.min_value, conditions.max_value, facts.unit_value),
        _flag("under warranty", conditions.in_warranty, facts.in_warranty),
        _flag("recall", conditions.recall, facts.recall),
        _days(conditions.min_days, conditions.max_days, facts.days_since_purchase),
    ]


def first_match[R](ruleset: Iterable[tuple[R, Conditions]], facts: Facts) -> Trace[R]:
    """Try rules in the order given; stop at the first whose every condition matched."""
    trace: Trace[R] = Trace()
    for rule, conditions in ruleset:
        checks = evaluate(conditions, facts)
        trace.tried.append((rule, checks))
        if all(check.matched for check in checks):
            trace.fired = rule
            break
    return trace


def ends_in_catch_all(ordered: Sequence[Conditions]) -> bool:
    """A rule set is complete when its last rule matches anything: no unit goes unrouted."""
    return bool(ordered) and ordered[-1].is_catch_all


def explain(checks: Sequence[Check]) -> list[dict]:
    """The constrained checks as JSON-able rows, to keep with a decision as its 'why'."""
    return [
        {"condition": check.name, "matched": check.matched, "explanation": check.explanation}
        for check in checks
        if check.constrained
    ]
