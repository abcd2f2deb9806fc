"""The step a later app recommends for a graded unit, shown with its grade.

Inspection cannot import disposition, so disposition registers a provider from its
AppConfig.ready(), as the core's unit facts are registered:

    from inspection.next_step import register_next_step
    register_next_step(recommended_disposition)

A provider takes the finished inspection (its unit loaded with product and RMA) and returns the
step the clerk can confirm with one key, or None when it has none to offer: the unit's own page
then says why.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from .models import Inspection


@dataclass(frozen=True)
class NextStep:
    summary: str  # what is recommended, in the clerk's words: "Restock → RESTOCK-A"
    confirm_label: str  # the button's words: "Confirm Restock"
    url: str  # where confirming posts
    fields: dict[str, str] = field(default_factory=dict)  # what that post carries
    detail: str = ""  # what follows from it: "Full refund · 19.00"
    warnings: tuple[str, ...] = ()  # what the clerk should know before confirming


NextStepProvider = Callable[[Inspection], NextStep | None]

_providers: list[NextStepProvider] = []


def register_next_step(provider: NextStepProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def next_step(inspection: Inspection) -> NextStep | None:
    """The first registered provider's step for the graded unit, if any offers one."""
    for provider in _providers:
        if step := provider(inspection):
            return step
    return None
