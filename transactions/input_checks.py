"""Field-naming input errors shared by the entrypoints and the service layer: every refusal is
a ``ValidationFailed`` (422) whose messages name the offending field."""

from __future__ import annotations

from common.errors import ValidationFailed


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed.from_messages({field: [message]})


def check_idempotency_key(key) -> None:
    if key is not None and (not isinstance(key, str) or not 8 <= len(key) <= 64):
        raise invalid("idempotency_key", "must be a string of 8 to 64 characters")
