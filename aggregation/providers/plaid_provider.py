"""The Plaid provider, through the official ``plaid-python`` client.

plaid-python builds, validates and sends every request (typed request models, API keys,
``Plaid-Version``). Responses are read with ``_preload_content=False`` and parsed with
``json.loads(parse_float=Decimal)``: amounts become exact ``Decimal`` values without passing
through float, and skipping plaid-python's response models makes a sync ~70x faster on this
machine (bench/sync.py). The shapes we rely on are checked here (:func:`_require`).

Every call has a timeout (``NESTEGG_PLAID_TIMEOUT``) and is retried with exponential backoff
on RATE_LIMIT_EXCEEDED / HTTP 429, HTTP 5xx and connection errors. Access tokens never appear
in errors or logs raised from here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import plaid
import urllib3
from plaid.api import plaid_api
from plaid.model.accounts_balance_get_request import AccountsBalanceGetRequest
from plaid.model.country_code import CountryCode
from plaid.model.investments_holdings_get_request import InvestmentsHoldingsGetRequest
from plaid.model.investments_transactions_get_request import InvestmentsTransactionsGetRequest
from plaid.model.investments_transactions_get_request_options import (
    InvestmentsTransactionsGetRequestOptions,
)
from plaid.model.item_get_request import ItemGetRequest
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.item_remove_request import ItemRemoveRequest
from plaid.model.link_token_create_request import LinkTokenCreateRequest
from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
from plaid.model.products import Products
from plaid.model.sandbox_public_token_create_request import SandboxPublicTokenCreateRequest
from plaid.model.sandbox_public_token_create_request_options import (
    SandboxPublicTokenCreateRequestOptions,
)
from plaid.model.transactions_refresh_request import TransactionsRefreshRequest
from plaid.model.transactions_sync_request import TransactionsSyncRequest
from plaid.model.webhook_verification_key_get_request import WebhookVerificationKeyGetRequest

from aggregation.providers.base import ProviderError
from aggregation.providers.retry import call_with_retry
from aggregation.settings import PlaidSettings

log = logging.getLogger(__name__)
CLIENT_NAME = "Nestegg"
PRODUCTS = ("transactions", "investments")
INVESTMENT_PAGE = 500


def _require(body: dict, *keys: str, where: str) -> dict:
    missing = [k for k in keys if k not in body]
    if missing:
        raise ProviderError(
            "INVALID_RESPONSE", "API_ERROR", f"{where} response lacks {missing}", retryable=False
        )
    return body


def error_from_api_exception(exc: plaid.ApiException) -> ProviderError:
    """Plaid's error object -> ProviderError; 429 / RATE_LIMIT_EXCEEDED / 5xx are retryable."""
    status = exc.status or 0
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    error_type = str(body.get("error_type") or ("API_ERROR" if status >= 500 else "UNKNOWN"))
    code = str(body.get("error_code") or (f"HTTP_{status}" if status else "CONNECTION_ERROR"))
    retryable = status == 0 or status == 429 or status >= 500 or error_type == "RATE_LIMIT_EXCEEDED"
    return ProviderError(
        error_code=code,
        error_type=error_type,
        message=str(body.get("error_message") or exc.reason or "")[:300],
        display_message=body.get("display_message"),
        status=status or None,
        retryable=retryable,
    )


class PlaidProvider:
    name = "plaid"

    def __init__(self, settings: PlaidSettings, *, sleep: Callable[[float], None] | None = None):
        self.settings = settings
        config = plaid.Configuration(
            host=settings.host,
            api_key={"clientId": settings.client_id, "secret": settings.secret},
        )
        config.retries = False  # our own backoff decides; urllib3 must not retry silently
        self.api = plaid_api.PlaidApi(plaid.ApiClient(config))
        self._sleep = sleep
        self.calls = 0
        self.retries = 0

    # ------------------------------------------------------------------ transport
    def _call(self, method: str, request, *, raw: bool = True):
        endpoint = getattr(self.api, method)

        def once():
            self.calls += 1
            try:
                response = endpoint(
                    request, _preload_content=not raw, _request_timeout=self.settings.timeout
                )
            except plaid.ApiException as exc:
                raise error_from_api_exception(exc) from None
            except (TimeoutError, urllib3.exceptions.TimeoutError):
                raise ProviderError(
                    "TIMEOUT", "API_ERROR", f"{method} timed out", retryable=True
                ) from None
            except (urllib3.exceptions.HTTPError, ConnectionError, OSError) as exc:
                raise ProviderError(
                    "CONNECTION_ERROR",
                    "API_ERROR",
                    f"{method}: {type(exc).__name__}",
                    retryable=True,
                ) from None
            if not raw:
                return response
            try:
                return json.loads(response.data, parse_float=Decimal)
            except ValueError:
                raise ProviderError(
                    "INVALID_RESPONSE", "API_ERROR", f"{method} answered non-JSON", retryable=True
                ) from None

        def note(exc: ProviderError, attempt: int) -> None:
            self.retries += 1
            log.warning("plaid %s failed (%s), retry %d", method, exc.error_code, attempt)

        kwargs = {"attempts": self.settings.attempts, "on_retry": note}
        if self._sleep is not None:
            kwargs["sleep"] = self._sleep
        return call_with_retry(once, **kwargs)

    # ------------------------------------------------------------------ Link and Items
    def create_link_token(
        self, user_id: str, *, access_token: str | None = None, webhook: str | None = None
    ) -> dict:
        fields = {
            "client_name": CLIENT_NAME,
            "language": "en",
            "country_codes": [CountryCode("US")],
            "user": LinkTokenCreateRequestUser(client_user_id=user_id),
        }
        if access_token:
            fields["access_token"] = access_token  # update mode: repair an existing Item
        else:
            fields["products"] = [Products(p) for p in PRODUCTS]
        if webhook:
            fields["webhook"] = webhook
        body = self._call("link_token_create", LinkTokenCreateRequest(**fields))
        _require(body, "link_token", "expiration", where="/link/token/create")
        return {"link_token": body["link_token"], "expiration": body["expiration"]}

    def create_sandbox_public_token(
        self,
        institution_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        webhook: str | None = None,
    ) -> str:
        options = SandboxPublicTokenCreateRequestOptions()
        if username:
            options.override_username = username
        if password:
            options.override_password = password
        if webhook:
            options.webhook = webhook
        body = self._call(
            "sandbox_public_token_create",
            SandboxPublicTokenCreateRequest(
                institution_id=institution_id,
                initial_products=[Products(p) for p in PRODUCTS],
                options=options,
            ),
        )
        return _require(body, "public_token", where="/sandbox/public_token/create")["public_token"]

    def exchange_public_token(self, public_token: str) -> dict:
        body = self._call(
            "item_public_token_exchange", ItemPublicTokenExchangeRequest(public_token=public_token)
        )
        _require(body, "access_token", "item_id", where="/item/public_token/exchange")
        return {"access_token": body["access_token"], "item_id": body["item_id"]}

    def get_item(self, access_token: str) -> dict:
        body = self._call("item_get", ItemGetRequest(access_token=access_token))
        return _require(body, "item", where="/item/get")["item"]

    def remove_item(self, access_token: str) -> None:
        self._call("item_remove", ItemRemoveRequest(access_token=access_token))

    # ------------------------------------------------------------------ data
    def get_accounts(self, access_token: str) -> list[dict]:
        body = self._call(
            "accounts_balance_get", AccountsBalanceGetRequest(access_token=access_token)
        )
        return _require(body, "accounts", where="/accounts/balance/get")["accounts"]

    def sync_transactions_page(self, access_token: str, cursor: str, count: int = 500) -> dict:
        request = TransactionsSyncRequest(access_token=access_token, cursor=cursor, count=count)
        body = self._call("transactions_sync", request)
        return _require(
            body,
            "added",
            "modified",
            "removed",
            "next_cursor",
            "has_more",
            "accounts",
            where="/transactions/sync",
        )

    def get_holdings(self, access_token: str) -> dict:
        body = self._call(
            "investments_holdings_get", InvestmentsHoldingsGetRequest(access_token=access_token)
        )
        return _require(
            body, "accounts", "holdings", "securities", where="/investments/holdings/get"
        )

    def get_investment_transactions(self, access_token: str, start: date, end: date) -> dict:
        """Every investment transaction in [start, end], all pages (offset/count)."""
        if start > end:
            raise ValueError("start must not be after end")
        transactions: list[dict] = []
        securities: dict[str, dict] = {}
        accounts: list[dict] = []
        while True:
            request = InvestmentsTransactionsGetRequest(
                access_token=access_token,
                start_date=start,
                end_date=end,
                options=InvestmentsTransactionsGetRequestOptions(
                    count=INVESTMENT_PAGE, offset=len(transactions)
                ),
            )
            body = self._call("investments_transactions_get", request)
            _require(
                body,
                "investment_transactions",
                "total_investment_transactions",
                "securities",
                where="/investments/transactions/get",
            )
            accounts = body.get("accounts", accounts)
            for security in body["securities"]:
                securities[security["security_id"]] = security
            page = body["investment_transactions"]
            transactions.extend(page)
            if not page or len(transactions) >= int(body["total_investment_transactions"]):
                break
        return {
            "accounts": accounts,
            "securities": list(securities.values()),
            "investment_transactions": transactions,
        }

    def refresh_transactions(self, access_token: str) -> None:
        self._call("transactions_refresh", TransactionsRefreshRequest(access_token=access_token))

    def get_webhook_verification_key(self, key_id: str) -> dict:
        body = self._call(
            "webhook_verification_key_get", WebhookVerificationKeyGetRequest(key_id=key_id)
        )
        return _require(body, "key", where="/webhook_verification_key/get")["key"]
