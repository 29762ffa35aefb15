"""Plaid's error object and the catalogue of error codes the sandbox emits.

Shapes follow Plaid's ``PlaidError`` schema (API version 2020-09-14): the four required keys
(error_type, error_code, error_message, display_message) plus request_id, causes, status,
documentation_url, suggested_action and error_code_reason, which plaid-python models as optional.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorKind:
    error_type: str
    http_status: int
    default_message: str
    display_message: str | None
    doc_section: str


CATALOG: dict[str, ErrorKind] = {
    "INVALID_API_KEYS": ErrorKind(
        "INVALID_INPUT", 400, "invalid client_id or secret provided", None, "invalid-input"
    ),
    "INVALID_ACCESS_TOKEN": ErrorKind(
        "INVALID_INPUT", 400, "could not find matching access token", None, "invalid-input"
    ),
    "INVALID_PUBLIC_TOKEN": ErrorKind(
        "INVALID_INPUT", 400, "could not find matching public token", None, "invalid-input"
    ),
    "INVALID_LINK_TOKEN": ErrorKind(
        "INVALID_INPUT", 400, "could not find matching link token", None, "invalid-input"
    ),
    "INVALID_INSTITUTION": ErrorKind(
        "INVALID_INPUT", 400, "invalid institution_id provided", None, "invalid-input"
    ),
    "INVALID_ACCOUNT_ID": ErrorKind(
        "INVALID_INPUT",
        400,
        "one or more of the account IDs is invalid",
        None,
        "invalid-input",
    ),
    "INVALID_PRODUCT": ErrorKind(
        "INVALID_INPUT", 400, "one or more of the products is invalid", None, "invalid-input"
    ),
    "INVALID_WEBHOOK_VERIFICATION_KEY_ID": ErrorKind(
        "INVALID_INPUT", 400, "invalid key_id provided", None, "invalid-input"
    ),
    "MISSING_FIELDS": ErrorKind(
        "INVALID_REQUEST", 400, "the following required fields are missing", None, "invalid-request"
    ),
    "INVALID_FIELD": ErrorKind(
        "INVALID_REQUEST", 400, "a field has an invalid value", None, "invalid-request"
    ),
    "INVALID_BODY": ErrorKind(
        "INVALID_REQUEST",
        400,
        "body could not be parsed as JSON object",
        None,
        "invalid-request",
    ),
    "NOT_FOUND": ErrorKind("INVALID_REQUEST", 404, "not found", None, "invalid-request"),
    "INVALID_CREDENTIALS": ErrorKind(
        "ITEM_ERROR",
        400,
        "the provided credentials were not correct",
        "The provided credentials were not correct. Please try again.",
        "item",
    ),
    "ITEM_LOCKED": ErrorKind(
        "ITEM_ERROR",
        400,
        "the account is locked. prompt the user to visit the institution's site and unlock",
        "The given account has been locked by the financial institution. Please visit your "
        "financial institution's website to unlock your account.",
        "item",
    ),
    "ITEM_LOGIN_REQUIRED": ErrorKind(
        "ITEM_ERROR",
        400,
        "the login details of this item have changed (credentials, MFA, or required user "
        "action) and a user login is required to update this information. use Link's update "
        "mode to restore the item to a good state",
        "Please update your login credentials.",
        "item",
    ),
    "PRODUCT_NOT_READY": ErrorKind(
        "ITEM_ERROR",
        400,
        "the requested product is not yet ready. please provide a webhook or try the request "
        "again later",
        None,
        "item",
    ),
    "PRODUCTS_NOT_SUPPORTED": ErrorKind(
        "ITEM_ERROR",
        400,
        "the requested product is not supported by this institution",
        None,
        "item",
    ),
    "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION": ErrorKind(
        "TRANSACTIONS_ERROR",
        400,
        "underlying transaction data changed since last page was fetched. please restart "
        "pagination from last update.",
        None,
        "transactions",
    ),
    "SANDBOX_WEBHOOK_INVALID": ErrorKind(
        "SANDBOX_ERROR",
        400,
        "the webhook for the item is not set or is invalid",
        None,
        "sandbox",
    ),
    "INTERNAL_SERVER_ERROR": ErrorKind(
        "API_ERROR", 500, "an unexpected error occurred", None, "api"
    ),
}

# Error codes a sandbox user can force at link time with the password ``error_<CODE>``.
FORCEABLE_LINK_ERRORS = frozenset({"INVALID_CREDENTIALS", "ITEM_LOCKED", "ITEM_LOGIN_REQUIRED"})


class PlaidApiError(Exception):
    """A Plaid API error; the Flask layer turns it into Plaid's JSON error body."""

    def __init__(self, error_code: str, message: str | None = None):
        if error_code not in CATALOG:
            raise ValueError(f"unknown Plaid error code {error_code!r}")
        kind = CATALOG[error_code]
        super().__init__(message or kind.default_message)
        self.error_code = error_code
        self.kind = kind
        self.error_message = message or kind.default_message

    @property
    def http_status(self) -> int:
        return self.kind.http_status


def error_object(error: PlaidApiError, request_id: str | None) -> dict:
    """The full PlaidError JSON object (also used inside Item.error and ITEM ERROR webhooks)."""
    kind = error.kind
    body = {
        "error_type": kind.error_type,
        "error_code": error.error_code,
        "error_code_reason": None,
        "error_message": error.error_message,
        "display_message": kind.display_message,
        "request_id": request_id,
        "causes": [],
        "status": kind.http_status,
        "documentation_url": (
            f"https://plaid.com/docs/errors/{kind.doc_section}/#{error.error_code.lower()}"
        ),
        "suggested_action": None,
    }
    if request_id is None:  # PlaidError.request_id is a non-nullable string when present
        del body["request_id"]
    return body


def missing_fields(names: list[str]) -> PlaidApiError:
    return PlaidApiError(
        "MISSING_FIELDS", "the following required fields are missing: " + ", ".join(names)
    )


def invalid_field(message: str) -> PlaidApiError:
    return PlaidApiError("INVALID_FIELD", message)
