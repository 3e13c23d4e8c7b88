"""Domain exceptions. Each carries a stable machine-readable `code`; portal.problems maps them to HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal.i18n import N_


@dataclass(frozen=True, slots=True)
class FieldError:
    """`message` is a translatable message id with %(name)s placeholders filled from `params`."""

    field: str
    message: str
    code: str = "invalid"
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.message % self.params if self.params else self.message


class ConfigurationError(RuntimeError):
    """The process is misconfigured and must not start."""


class DomainError(Exception):
    """`detail` is a translatable message id; `params` fill its %(name)s placeholders."""

    status: int = 400
    code: str = "bad_request"
    title: str = N_("Bad request")

    def __init__(self, detail: str | None = None, *, code: str | None = None, **params: Any) -> None:
        self.detail = detail or self.title
        self.params = params
        if code:
            self.code = code
        super().__init__(self.text)

    @property
    def text(self) -> str:
        return self.detail % self.params if self.params else self.detail


class ValidationFailed(DomainError):
    status, code, title = 422, "validation_failed", N_("The request has invalid fields")

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None) -> None:
        self.errors = list(errors)
        super().__init__(detail or self.title)

    @classmethod
    def single(cls, field: str, message: str, code: str = "invalid", **params: Any) -> ValidationFailed:
        return cls([FieldError(field, message, code, params)])


class NotAuthenticated(DomainError):
    status, code, title = 401, "not_authenticated", N_("Authentication required")


class InvalidCredentials(DomainError):
    status, code, title = 401, "invalid_credentials", N_("The workspace, email or password is not correct")


class PermissionDenied(DomainError):
    status, code, title = 403, "permission_denied", N_("You do not have permission to do this")


class NotFound(DomainError):
    """Also what another tenant's record, or one outside the actor's data scope, looks like."""

    status, code, title = 404, "not_found", N_("Not found")


class Conflict(DomainError):
    status, code, title = 409, "conflict", N_("The request conflicts with the current state")


class IdempotencyKeyReused(Conflict):
    code, title = "idempotency_key_reused", N_("This Idempotency-Key was already used with a different request")


class IdempotentAnswerWithheld(Conflict):
    """The request under this key was carried out, but its answer carried a secret shown only once, which
    is never stored to be replayed."""

    code, title = "idempotent_answer_withheld", N_("This request was already carried out")

    def __init__(self) -> None:
        super().__init__(
            N_(
                "A request with this Idempotency-Key was already carried out. Its answer held a secret that is "
                "shown only once and is not kept, so it cannot be sent again: look the created record up, and "
                "replace its secret or link if the answer was lost."
            )
        )


class Throttled(DomainError):
    status, code, title = 429, "too_many_attempts", N_("Too many attempts")

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(detail or N_("Too many attempts; try again in %(seconds)s seconds"), seconds=self.retry_after)


class TenantViolation(RuntimeError):
    """A write or query crossed a tenant boundary. Always a programming error, never user input."""


class QuotaExceeded(Conflict):
    code, title = "quota_exceeded", N_("The interconnect quota is used up")


class Gone(DomainError):
    status, code, title = 410, "gone", N_("This is no longer available")
