"""Inspection's refusals; each is a DomainError so views answer with its message and status."""

from returns_desk.exceptions import DomainError


class UnknownUnit(DomainError):
    status = 404


class NotInspectable(DomainError):
    """The unit's status does not allow inspection now (held, not received, disposed...)."""


class InspectedElsewhere(DomainError):
    """Another station holds the unit's open inspection."""


class InspectionNotOpen(DomainError):
    """The inspection was completed or superseded; nothing more can be recorded on it."""


class NoChecklist(DomainError):
    pass


class InvalidAnswers(DomainError):
    """Answers missing or out of range; `errors` maps criterion id to what is wrong."""

    status = 422

    def __init__(self, message: str, errors: dict[int, str]):
        super().__init__(message)
        self.errors = errors


class ForgedAnswer(DomainError):
    """An answer for a question that is not on this unit's checklist."""

    status = 400


class PhotoRejected(DomainError):
    status = 422


class ReopenRefused(DomainError):
    status = 403


class ReasonRequired(DomainError):
    status = 422
