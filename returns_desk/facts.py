"""Facts later apps add to what the core tells about a unit (grade, disposition, refund).

The core cannot import inspection or disposition, so they register a provider from their
AppConfig.ready():

    from returns_desk.facts import register_unit_facts
    register_unit_facts(grade_facts)

A provider takes a list of units and returns {unit pk: {field: JSON-able value}} for those it
knows about, in a bounded number of queries (never one per unit). The API's unit endpoint and
the customer tracking page merge what every provider returns.
"""

from collections.abc import Callable, Iterable

from .models import ReturnItem

UnitFactsProvider = Callable[[list[ReturnItem]], dict[int, dict]]

_providers: list[UnitFactsProvider] = []


def register_unit_facts(provider: UnitFactsProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def unregister_unit_facts(provider: UnitFactsProvider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def unit_facts(items: Iterable[ReturnItem]) -> dict[int, dict]:
    """Every registered provider's facts about `items`, merged per unit pk."""
    items = list(items)
    merged: dict[int, dict] = {item.pk: {} for item in items}
    if not items:
        return merged
    for provider in _providers:
        for pk, facts in provider(items).items():
            merged.setdefault(pk, {}).update(facts)
    return merged
