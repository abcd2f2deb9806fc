"""Whether a unit received before has since gone back into sellable stock, as a later app knows.

Receiving refuses a serial whose unit is still in the building: one serial is one unit. A unit
restocked to sellable stock can be sold and come back on a new RMA, though, and the core cannot
tell a restocked unit from one waiting for a recycler's lot. Disposition knows, and registers
its test from AppConfig.ready():

    from returns_desk.custody import register_back_in_stock
    register_back_in_stock(restocked)

A test takes the earlier unit, locked, and reads what it needs (one or two queries: it runs
only when a serial is received again).
"""

from collections.abc import Callable

from .models import ReturnItem

BackInStockTest = Callable[[ReturnItem], bool]

_tests: list[BackInStockTest] = []


def register_back_in_stock(test: BackInStockTest) -> None:
    if test not in _tests:
        _tests.append(test)


def back_in_stock(item: ReturnItem) -> bool:
    """True when a registered test says `item` went back into sellable stock."""
    return any(test(item) for test in _tests)
