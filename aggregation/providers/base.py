"""The interface every account-data provider implements, and its one error type.

Providers take and return plain data: dicts of JSON values with money as ``Decimal`` (never
float). Amounts keep Plaid's sign convention: positive = money leaves the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

# Item error codes that need the user (Link update mode) and mark the item ``login_required``.
LOGIN_REQUIRED_CODES = frozenset(
    {
        "ITEM_LOGIN_REQUIRED",
        "INVALID_CREDENTIALS",
        "INVALID_MFA",
        "ITEM_LOCKED",
        "USER_SETUP_REQUIRED",
        "PENDING_EXPIRATION",
        "ACCESS_NOT_GRANTED",
        "NO_ACCOUNTS",
    }
)
MUTATION_DURING_PAGINATION = "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION"


@dataclass
class ProviderError(Exception):
    """A provider call failed. ``retryable`` is true for rate limits, 5xx and network errors."""

    error_code: str
    error_type: str = "API_ERROR"
    message: str = ""
    display_message: str | None = None
    status: int | None = None
    retryable: bool = False

    def __post_init__(self) -> None:
        super().__init__(f"{self.error_type}/{self.error_code}: {self.message}")

    @property
    def needs_login(self) -> bool:
        return self.error_code in LOGIN_REQUIRED_CODES

    @property
    def is_item_error(self) -> bool:
        return self.needs_login or self.error_type == "ITEM_ERROR"


class AggregationProvider(Protocol):
    name: str

    def create_link_token(
        self, user_id: str, *, access_token: str | None = None, webhook: str | None = None
    ) -> dict: ...

    def create_sandbox_public_token(
        self,
        institution_id: str,
        *,
        username: str | None,
        password: str | None,
        webhook: str | None,
    ) -> str: ...

    def exchange_public_token(self, public_token: str) -> dict: ...

    def get_item(self, access_token: str) -> dict: ...

    def remove_item(self, access_token: str) -> None: ...

    def get_accounts(self, access_token: str) -> list[dict]: ...

    def sync_transactions_page(self, access_token: str, cursor: str, count: int) -> dict: ...

    def get_holdings(self, access_token: str) -> dict: ...

    def get_investment_transactions(self, access_token: str, start: date, end: date) -> dict: ...

    def refresh_transactions(self, access_token: str) -> None: ...

    def get_webhook_verification_key(self, key_id: str) -> dict: ...
