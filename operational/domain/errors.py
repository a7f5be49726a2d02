"""Domain errors: a rule said no. Entrypoints turn each kind into its HTTP status."""


class DomainError(Exception):
    """A request that the lending rules refuse; the message says why."""


class NotFound(DomainError):
    """The named patron, item, title, branch, loan, hold or transport does not exist."""


class InvalidRequest(DomainError):
    """The request is well formed but a value in it does not fit (an unknown code, a hub
    as a lending branch); `field` names the input at fault where there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotPermitted(DomainError):
    """The patron's municipality may not use that branch or item on that date."""


class Conflict(DomainError):
    """The request clashes with the current state of an item, loan, hold or transport."""


class ItemNotAvailable(Conflict):
    pass


class ItemNotOnLoan(Conflict):
    pass


class LoanLimitReached(Conflict):
    pass


class NotRenewable(Conflict):
    """`reason` names the rule that refused ("returned", "renewal_limit", "others_waiting"),
    so an entrypoint can say it in its own words (the visitors' web says it in Swedish)."""

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = reason


class HoldNotActive(Conflict):
    pass


class DuplicateHold(Conflict):
    pass


class TransportStateError(Conflict):
    pass


class AlreadyExists(Conflict):
    """A card number, barcode or name that must be unique is taken."""
