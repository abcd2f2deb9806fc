"""Rows of later apps that name the core's reference data without a protecting foreign key.

A disposition rule names programs, reasons and categories through many-to-many links, and an
empty list there means "any": deleting the one program a rule names would silently make it fire
for every program. The core cannot import disposition, so disposition registers a finder from
AppConfig.ready(), and the admin lists what it finds as protected, refusing the delete:

    from returns_desk.references import register_referrers
    register_referrers(rules_naming)

A finder takes the rows about to be deleted (all of one model) and returns a description of
each row that names any of them, in one query.
"""

from collections.abc import Callable, Sequence

from django.db.models import Model

Finder = Callable[[Sequence[Model]], list[str]]

_finders: list[Finder] = []


def register_referrers(finder: Finder) -> None:
    if finder not in _finders:
        _finders.append(finder)


def referrers(rows: Sequence[Model]) -> list[str]:
    """What names `rows` in every registered finder's view; empty when nothing does."""
    rows = list(rows)
    if not rows:
        return []
    return [found for finder in _finders for found in finder(rows)]
