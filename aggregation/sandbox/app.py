"""The Flask app: POST-only JSON routes, Plaid's API-key check, and Plaid's error bodies."""

from __future__ import annotations

import hmac
import json
import secrets
import string
from collections.abc import Callable
from datetime import date

from flask import Flask, Response, request

from .engine import DEFAULT_CLIENT_ID, DEFAULT_SECRET, Sandbox, Settings
from .errors import PlaidApiError, error_object

PLAID_ROUTES: dict[str, str] = {
    "/link/token/create": "link_token_create",
    "/sandbox/public_token/create": "sandbox_public_token_create",
    "/item/public_token/exchange": "item_public_token_exchange",
    "/item/get": "item_get",
    "/item/remove": "item_remove",
    "/accounts/get": "accounts_get",
    "/accounts/balance/get": "accounts_balance_get",
    "/transactions/sync": "transactions_sync",
    "/transactions/refresh": "transactions_refresh",
    "/investments/holdings/get": "investments_holdings_get",
    "/investments/transactions/get": "investments_transactions_get",
    "/institutions/get_by_id": "institutions_get_by_id",
    "/sandbox/item/fire_webhook": "sandbox_item_fire_webhook",
    "/sandbox/item/reset_login": "sandbox_item_reset_login",
    "/webhook_verification_key/get": "webhook_verification_key_get",
}
ADMIN_ROUTES: dict[str, str] = {
    "/sandbox/admin/advance": "admin_advance",
    "/sandbox/admin/item/repair": "admin_repair",
    "/sandbox/admin/transactions/fail_next_sync_page": "admin_fail_next_sync_page",
    "/sandbox/admin/webhooks": "admin_webhooks",
    "/sandbox/admin/settings": "admin_settings",
}
_ID_ALPHABET = string.ascii_letters + string.digits


def _request_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15))


def _json(body: dict, status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _credentials(body: dict) -> tuple[str | None, str | None]:
    client_id = body.pop("client_id", None) or request.headers.get("PLAID-CLIENT-ID")
    secret = body.pop("secret", None) or request.headers.get("PLAID-SECRET")
    return client_id, secret


def _check_keys(settings: Settings, client_id: str | None, secret: str | None) -> None:
    missing = [name for name, value in (("client_id", client_id), ("secret", secret)) if not value]
    if missing:
        raise PlaidApiError(
            "MISSING_FIELDS", "the following required fields are missing: " + ", ".join(missing)
        )
    good_id = hmac.compare_digest(str(client_id).encode(), settings.client_id.encode())
    good_secret = hmac.compare_digest(str(secret).encode(), settings.secret.encode())
    if not (good_id and good_secret):
        raise PlaidApiError("INVALID_API_KEYS")


def _endpoint(sandbox: Sandbox, method_name: str) -> Callable[[], Response]:
    handler = getattr(sandbox, method_name)

    def view() -> Response:
        request_id = _request_id()
        try:
            try:
                body = json.loads(request.get_data(as_text=True) or "{}")
            except ValueError:
                raise PlaidApiError("INVALID_BODY") from None
            if not isinstance(body, dict):
                raise PlaidApiError("INVALID_BODY")
            _check_keys(sandbox.settings, *_credentials(body))
            result = handler(body)
        except PlaidApiError as error:
            return _json(error_object(error, request_id), error.http_status)
        return _json({**result, "request_id": request_id}, 200)

    view.__name__ = method_name
    return view


def create_app(
    seed: str = "nestegg",
    client_id: str = DEFAULT_CLIENT_ID,
    secret: str = DEFAULT_SECRET,
    anchor: date | None = None,
    history_days: int = 730,
    transactions_target: int | None = None,
) -> Flask:
    """A Plaid-compatible sandbox. Same arguments -> same Items, accounts and transactions."""
    sandbox = Sandbox(
        Settings(
            seed=seed,
            client_id=client_id,
            secret=secret,
            anchor=anchor,
            history_days=history_days,
            transactions_target=transactions_target,
        )
    )
    app = Flask("nestegg-plaid-sandbox")
    app.extensions["plaid_sandbox"] = sandbox
    for path, method_name in {**PLAID_ROUTES, **ADMIN_ROUTES}.items():
        app.add_url_rule(
            path, endpoint=method_name, view_func=_endpoint(sandbox, method_name), methods=["POST"]
        )

    @app.errorhandler(404)
    def not_found(_error) -> Response:
        error = PlaidApiError("NOT_FOUND", f"unknown endpoint {request.path}")
        return _json(error_object(error, _request_id()), 404)

    @app.errorhandler(405)
    def wrong_method(_error) -> Response:
        error = PlaidApiError("INVALID_BODY", "every Plaid endpoint takes a POST with a JSON body")
        return _json(error_object(error, _request_id()), 400)

    @app.errorhandler(Exception)
    def unexpected(_error) -> Response:
        error = PlaidApiError("INTERNAL_SERVER_ERROR")
        app.logger.exception("sandbox request failed")
        return _json(error_object(error, _request_id()), 500)

    return app
