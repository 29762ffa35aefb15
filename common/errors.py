"""Typed domain errors that cross RPC and arrive in the gateway as the same types.

Each error carries an HTTP status, a stable machine ``code`` and a human ``detail``. They are
registered with nameko's ``deserialize_to_instance`` so a ``ClusterRpcProxy`` caller gets the
same class back (constructed from ``exc_args``), not a generic ``RemoteError``. Constructor
arguments must therefore stay JSON-serialisable: ``(detail, extra)``.
"""

from __future__ import annotations

import json
from typing import Any

from nameko.exceptions import deserialize_to_instance


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, extra: dict[str, Any] | str | None = None):
        self.detail = detail or self.title
        if isinstance(extra, str):  # as it crossed RPC: JSON keeps numbers and booleans typed
            extra = json.loads(extra) if extra else {}
        self.extra = dict(extra or {})
        # nameko stringifies non-string values inside exc_args; a JSON string survives intact
        super().__init__(self.detail, json.dumps(self.extra, default=str, sort_keys=True))

    def __str__(self) -> str:
        return self.detail

    def to_problem(self) -> dict[str, Any]:
        """RFC 9457 members for this error (the gateway adds ``instance`` and ids)."""
        body = {
            "type": f"urn:nestegg:problem:{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        body.update({k: v for k, v in self.extra.items() if k not in body})
        return body


def _register(cls):
    return deserialize_to_instance(cls)


@_register
class BadRequest(DomainError):
    pass


@_register
class ValidationFailed(DomainError):
    status, code, title = 422, "validation_failed", "The request payload is invalid"

    @classmethod
    def from_messages(cls, messages: Any, detail: str | None = None) -> ValidationFailed:
        return cls(detail or "One or more fields are invalid", {"errors": messages})


@_register
class Unauthenticated(DomainError):
    status, code, title = 401, "unauthenticated", "Authentication required"


@_register
class StepUpRequired(DomainError):
    status, code, title = 401, "step_up_required", "A recent second factor is required"


@_register
class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


@_register
class MfaRequired(DomainError):
    status, code, title = 403, "mfa_required", "Enrol a second factor first"


@_register
class MfaCodeRequired(DomainError):
    """The password was right; the second factor is still needed (extra carries the challenge)."""

    status, code, title = 401, "mfa_code_required", "A second factor is required"


@_register
class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


@_register
class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


@_register
class Locked(DomainError):
    status, code, title = 423, "locked", "Locked"


@_register
class RateLimited(DomainError):
    status, code, title = 429, "rate_limited", "Too many requests"


@_register
class UpstreamError(DomainError):
    status, code, title = 502, "upstream_error", "An upstream provider failed"


@_register
class ServiceUnavailable(DomainError):
    status, code, title = 503, "service_unavailable", "Service unavailable"


ALL_ERRORS: tuple[type[DomainError], ...] = (
    BadRequest,
    ValidationFailed,
    Unauthenticated,
    StepUpRequired,
    MfaCodeRequired,
    Forbidden,
    MfaRequired,
    NotFound,
    Conflict,
    Locked,
    RateLimited,
    UpstreamError,
    ServiceUnavailable,
)
