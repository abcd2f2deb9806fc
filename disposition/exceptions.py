"""Disposition's refusals; each is a DomainError so views answer with its message and status."""

from returns_desk.exceptions import DomainError


class UnknownUnit(DomainError):
    status = 404


class NotDecidable(DomainError):
    """The unit is not inspected (or was decided meanwhile), so no disposition can be made now."""


class StaleRecommendation(DomainError):
    """The unit was re-graded since the clerk saw its recommendation."""


class NoRuleMatched(DomainError):
    """The active rule set has no catch-all: an admin must add one."""


class OverrideInvalid(DomainError):
    status = 422


class ApprovalRefused(DomainError):
    status = 403


class NotAwaitingApproval(DomainError):
    pass


class WrongLocation(DomainError):
    status = 422


class LotNotOpen(DomainError):
    pass


class RepairNotOpen(DomainError):
    pass


class RefundNotAllowed(DomainError):
    pass
