"""Refusals raised by domain services; handlers turn each into a localized answer."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the action. Nothing has been written when it is raised."""


class UnknownDepartmentError(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class DuplicateDepartmentError(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class UnknownItemError(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class DuplicateItemError(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class UnknownPersonError(DomainError):
    def __init__(self, telegram_id: int | str) -> None:  # an ID, or a typed @username
        super().__init__(telegram_id)
        self.telegram_id = telegram_id


class ProtectedPersonError(DomainError):
    """The person cannot be revoked: it is the actor or an ADMIN_IDS account."""


class UnchangedError(DomainError):
    """The requested value is already in place."""


class InviteInvalidError(DomainError):
    """Forged, mistyped or unknown invitation token."""


class InviteUsedError(DomainError):
    pass


class InviteExpiredError(DomainError):
    pass


class AwayDateError(DomainError):
    """The date one is back must be later than today."""


class InvalidDeputyError(DomainError):
    """A deputy must be another active member of the same department, not away themselves."""
