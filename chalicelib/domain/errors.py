"""Domain errors. The HTTP layer maps each class to one status code (`api/errors.py`)."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a caller can act on."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class ValidationFailed(DomainError):
    """Input broke one or more rules; every broken field is listed."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class Unauthenticated(DomainError):
    pass


class MfaRequired(Unauthenticated):
    """The password was right but the account asks for a one-time code from an authenticator app;
    `session` is the directory's opaque, short-lived proof of the first step, handed back with the code."""

    def __init__(self, session: str):
        super().__init__("this account needs the 6-digit code from its authenticator app")
        self.session = session


class Forbidden(DomainError):
    pass


class TooManyRequests(DomainError):
    """The caller asked too often in the current window; `retry_after` seconds until it may again."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
