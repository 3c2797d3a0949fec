"""Domain errors. The API layer maps each class to one HTTP status (vipcare.api.errors)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: `code` is a stable machine-readable string, `message` is for people."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """The input is well-formed but breaks a business rule (unknown store, future birthday...)."""

    code = "validation_error"


class NotFound(DomainError):
    """Missing, or outside the caller's scope: we never reveal that another brand's item exists."""

    code = "not_found"


class Conflict(DomainError):
    """The request clashes with existing state (a phone already enrolled, a duplicate id)."""

    code = "conflict"


class Forbidden(DomainError):
    """The caller is known and in scope, but their role may not do this."""

    code = "forbidden"


class Unauthorized(DomainError):
    """No caller identity could be established."""

    code = "unauthorized"
