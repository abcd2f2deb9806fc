"""Domain errors raised by services; views turn each into a clear message and a 4xx."""

from django.utils.translation import gettext as _

from .wording import in_sentence


class DomainError(Exception):
    """A request the desk refuses: `status` is the HTTP answer, `message` what the clerk reads."""

    status = 409

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidTransition(DomainError):
    def __init__(self, obj, to_status: str):
        super().__init__(
            _("%(object)s is %(status)s and cannot become %(to_status)s.")
            % {
                "object": obj,
                "status": in_sentence(obj.get_status_display()),
                "to_status": to_status,
            }
        )
        self.obj = obj
        self.to_status = to_status


class UnknownCode(DomainError):
    status = 404


class AmbiguousCode(DomainError):
    pass


class RmaNotReceivable(DomainError):
    pass


class RmaNotCancellable(DomainError):
    """Something arrived against the RMA: what came is received or refused, not cancelled."""


class ParcelNotOpen(DomainError):
    pass


class WrongItem(DomainError):
    pass


class OverReceipt(DomainError):
    pass


class SerialRequired(DomainError):
    """Not a refusal: the product is serialised, so the next scan must be its serial."""

    status = 422

    def __init__(self, message: str, line):
        super().__init__(message)
        self.line = line


class SerialAlreadyReceived(DomainError):
    pass


class StationCannotReceive(DomainError):
    status = 403


class RmaConflict(DomainError):
    """The RMA number, or one of its tracking numbers, is already taken."""


class NoPolicy(DomainError):
    status = 422


class ExceptionNotOpen(DomainError):
    """The exception was already resolved (a second supervisor, or a double click)."""


class CannotResolve(DomainError):
    """This resolution does not fit the exception, e.g. releasing a parcel that has no RMA."""


class ReasonRequired(DomainError):
    status = 422
