"""The sandbox's behaviour: one method per Plaid endpoint (and per admin hook), taking the
parsed JSON body and returning the response body without ``request_id``. In-memory state,
deterministic from the seed; every public method holds one lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from . import changelog, validation, webhooks, wire
from .errors import FORCEABLE_LINK_ERRORS, PlaidApiError, invalid_field
from .ids import digest_int, token
from .institutions import find_institution
from .investing import holdings_at
from .items import HORIZON_DAYS, ItemState, build_item
from .securities import PriceBook

# Public, sandbox-only API keys (the runner reads real ones from the environment).
DEFAULT_CLIENT_ID = "nestegg-sandbox-client"
DEFAULT_SECRET = "nestegg-sandbox-secret"  # noqa: S105 - documented sandbox credential
GOOD_USERNAME, GOOD_PASSWORD = "user_good", "pass_good"
SUPPORTED_PRODUCTS = {
    "transactions",
    "investments",
    "auth",
    "identity",
    "balance",
    "liabilities",
    "assets",
}


@dataclass
class Settings:
    seed: str = "nestegg"
    client_id: str = DEFAULT_CLIENT_ID
    secret: str = DEFAULT_SECRET
    anchor: date | None = None  # the sandbox's "today" for new Items; default: today (UTC)
    history_days: int = 730
    transactions_target: int | None = None  # e.g. 10_000 for benchmarks

    def __post_init__(self) -> None:
        if not self.seed:
            raise ValueError("seed must not be empty")
        if not self.client_id or not self.secret:
            raise ValueError("client_id and secret must not be empty")
        if not 1 <= self.history_days <= 730:
            raise ValueError("history_days must be within 1..730")
        if self.transactions_target is not None and not 100 <= self.transactions_target <= 50_000:
            raise ValueError("transactions_target must be within 100..50000")


class Sandbox:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.anchor = settings.anchor or datetime.now(UTC).date()
        self.prices = PriceBook(
            settings.seed,
            self.anchor,
            self.anchor - timedelta(days=740),
            self.anchor + timedelta(days=HORIZON_DAYS + 5),
        )
        created = int(
            datetime(self.anchor.year, self.anchor.month, self.anchor.day, tzinfo=UTC).timestamp()
        )
        self.signer = webhooks.WebhookSigner(settings.seed, created)
        self.dispatcher = webhooks.WebhookDispatcher(self.signer)
        self.cursors = changelog.CursorCodec(
            digest_int(settings.seed, "cursor").to_bytes(32, "big")
        )
        self._lock = threading.RLock()
        self._items: dict[str, ItemState] = {}  # by access token
        self._public_tokens: dict[str, dict] = {}
        self._link_tokens: dict[str, dict] = {}
        self._counter = 0

    # ------------------------------------------------------------------ helpers
    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _item(self, body: dict) -> ItemState:
        validation.require(body, "access_token")
        access_token = validation.string(body, "access_token")
        state = self._items.get(access_token)  # type: ignore[arg-type]
        if state is None:
            raise PlaidApiError("INVALID_ACCESS_TOKEN")
        return state

    def _healthy_item(self, body: dict) -> ItemState:
        state = self._item(body)
        if state.error is not None:
            raise state.error
        return state

    def _fire(self, state: ItemState, body: dict) -> bool:
        if not state.webhook:
            return False
        self.dispatcher.send(state.webhook, body)
        state.last_webhook = (datetime.now(UTC), body["webhook_code"])
        return True

    def _sync_webhook(self, state: ItemState) -> bool:
        return self._fire(
            state,
            webhooks.payload(
                "TRANSACTIONS",
                "SYNC_UPDATES_AVAILABLE",
                state.item_id,
                initial_update_complete=True,
                historical_update_complete=True,
            ),
        )

    def _account_filter(self, state: ItemState, options: dict) -> list[str] | None:
        ids = validation.string_list(options, "account_ids")
        if ids is not None and any(state.account(i) is None for i in ids):
            raise PlaidApiError("INVALID_ACCOUNT_ID")
        return ids

    # ------------------------------------------------------------------ Link and Items
    def link_token_create(self, body: dict) -> dict:
        with self._lock:
            validation.require(body, "client_name", "language", "country_codes")
            validation.string_list(body, "country_codes")
            user = validation.object_field(body, "user")
            access_token = validation.string(body, "access_token")
            if access_token is None:
                validation.require(user, "client_user_id")
                products = validation.string_list(body, "products") or []
                unknown = sorted(set(products) - SUPPORTED_PRODUCTS)
                if unknown:
                    raise PlaidApiError("INVALID_PRODUCT", f"unknown products: {unknown}")
            elif access_token not in self._items:
                raise PlaidApiError("INVALID_ACCESS_TOKEN")
            link_token = token("link", self.settings.seed, "link", self._next())
            expiration = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=4)
            self._link_tokens[link_token] = {"access_token": access_token, "expiration": expiration}
            return {"link_token": link_token, "expiration": wire.iso_datetime(expiration)}

    def sandbox_public_token_create(self, body: dict) -> dict:
        with self._lock:
            validation.require(body, "institution_id", "initial_products")
            institution = find_institution(validation.string(body, "institution_id") or "")
            if institution is None:
                raise PlaidApiError("INVALID_INSTITUTION")
            products = validation.string_list(body, "initial_products") or []
            unknown = sorted(set(products) - SUPPORTED_PRODUCTS)
            if unknown:
                raise PlaidApiError("INVALID_PRODUCT", f"unknown products: {unknown}")
            if not set(products) <= set(institution.products):
                raise PlaidApiError("PRODUCTS_NOT_SUPPORTED")
            options = validation.object_field(body, "options")
            username = validation.string(options, "override_username", GOOD_USERNAME)
            password = validation.string(options, "override_password", GOOD_PASSWORD)
            if password and password.startswith("error_") and username == GOOD_USERNAME:
                forced = password.removeprefix("error_")
                if forced in FORCEABLE_LINK_ERRORS:
                    raise PlaidApiError(forced)
            if (username, password) != (GOOD_USERNAME, GOOD_PASSWORD):
                raise PlaidApiError("INVALID_CREDENTIALS")
            txn_options = validation.object_field(options, "transactions")
            days = validation.integer(
                txn_options, "days_requested", self.settings.history_days, 1, 730
            )
            ordinal = self._next()
            public_token = token("public", self.settings.seed, "public", ordinal)
            self._public_tokens[public_token] = {
                "ordinal": ordinal,
                "institution": institution,
                "products": products,
                "webhook": validation.string(options, "webhook"),
                "history_days": days,
                "target": self.settings.transactions_target,
                "expires": datetime.now(UTC) + timedelta(minutes=30),
            }
            return {"public_token": public_token}

    def item_public_token_exchange(self, body: dict) -> dict:
        with self._lock:
            validation.require(body, "public_token")
            pending = self._public_tokens.pop(validation.string(body, "public_token"), None)
            if pending is None or pending["expires"] < datetime.now(UTC):
                raise PlaidApiError("INVALID_PUBLIC_TOKEN")
            state = build_item(
                self.settings.seed,
                pending["ordinal"],
                pending["institution"],
                self.prices,
                self.anchor,
                pending["history_days"],
                pending["target"],
                pending["webhook"],
                pending["products"],
                datetime.now(UTC).replace(microsecond=0),
            )
            self._items[state.access_token] = state
            if "transactions" in state.products:
                self._sync_webhook(state)
            return {"access_token": state.access_token, "item_id": state.item_id}

    def item_get(self, body: dict) -> dict:
        with self._lock:
            state = self._item(body)
            return {
                "item": wire.item(state, with_consent_fields=True),
                "status": wire.item_status(state),
            }

    def item_remove(self, body: dict) -> dict:
        with self._lock:
            state = self._item(body)
            del self._items[state.access_token]
            return {}

    def accounts_get(self, body: dict) -> dict:
        with self._lock:
            state = self._healthy_item(body)
            options = validation.object_field(body, "options")
            ids = self._account_filter(state, options)
            return {"accounts": wire.accounts(state, ids), "item": wire.item(state)}

    def accounts_balance_get(self, body: dict) -> dict:
        return self.accounts_get(body)

    # ------------------------------------------------------------------ Transactions
    def transactions_sync(self, body: dict) -> dict:
        with self._lock:
            state = self._healthy_item(body)
            count = validation.integer(body, "count", 100, 1, 500)
            cursor_text = validation.string(body, "cursor") or ""
            options = validation.object_field(body, "options")
            include_original = validation.boolean(options, "include_original_description")
            account_id = validation.string(options, "account_id")
            if account_id is not None and state.account(account_id) is None:
                raise PlaidApiError("INVALID_ACCOUNT_ID")
            accounts = wire.accounts(state, [account_id] if account_id else None)
            if "transactions" not in state.products:
                # The product is added on first use; data is ready from the next call on.
                state.products.append("transactions")
                state.billed_products.append("transactions")
                return {
                    "transactions_update_status": "NOT_READY",
                    "accounts": accounts,
                    "added": [],
                    "modified": [],
                    "removed": [],
                    "next_cursor": "",
                    "has_more": False,
                }
            if cursor_text == "now":
                end = len(state.log)
                start = changelog.Cursor(end, end)
            else:
                start = self.cursors.decode(state.item_id, cursor_text) if cursor_text else None
            force = state.fail_next_sync_page and start is not None and start.mid_pagination
            if force:
                state.fail_next_sync_page = False
            result = changelog.page(state.log, start, count, account_id, force)
            state.last_transactions_update = datetime.now(UTC).replace(microsecond=0)
            return {
                "transactions_update_status": "HISTORICAL_UPDATE_COMPLETE",
                "accounts": accounts,
                "added": [wire.transaction(v, include_original) for v in result.added],
                "modified": [wire.transaction(v, include_original) for v in result.modified],
                "removed": [wire.removed_transaction(v) for v in result.removed],
                "next_cursor": self.cursors.encode(state.item_id, result.next_cursor),
                "has_more": result.has_more,
            }

    def transactions_refresh(self, body: dict) -> dict:
        with self._lock:
            state = self._healthy_item(body)
            self._sync_webhook(state)
            return {}

    # ------------------------------------------------------------------ Investments
    def _investments_item(self, body: dict) -> ItemState:
        state = self._healthy_item(body)
        if "investments" not in state.products:
            state.products.append("investments")
            state.billed_products.append("investments")
        return state

    def investments_holdings_get(self, body: dict) -> dict:
        with self._lock:
            state = self._investments_item(body)
            ids = self._account_filter(state, validation.object_field(body, "options"))
            investment_ids = [
                a.account_id
                for a in state.accounts
                if a.is_investment and (ids is None or a.account_id in ids)
            ]
            books = holdings_at(state.investment_transactions, state.clock)
            holdings, tickers = wire.holdings(state, books, investment_ids)
            state.last_investments_update = datetime.now(UTC).replace(microsecond=0)
            return {
                "accounts": wire.accounts(state, investment_ids, investment_only=True),
                "holdings": holdings,
                "securities": wire.securities(state, tickers),
                "item": wire.item(state),
                "is_investments_fallback_item": False,
            }

    def investments_transactions_get(self, body: dict) -> dict:
        with self._lock:
            validation.require(body, "access_token", "start_date", "end_date")
            state = self._healthy_item(body)
            first = validation.iso_date(body, "start_date")
            last = validation.iso_date(body, "end_date")
            if first > last:
                raise invalid_field("start_date must not be after end_date")
            options = validation.object_field(body, "options")
            ids = self._account_filter(state, options)
            count = validation.integer(options, "count", 100, 1, 500)
            offset = validation.integer(options, "offset", 0, 0, 10**9)
            if not state.investments_ready:
                # Investments added after Link: the first call starts the extraction.
                state.investments_ready = True
                self._investments_item(body)
                raise PlaidApiError("PRODUCT_NOT_READY")
            matching = [
                t
                for t in state.investment_transactions
                if first <= t["date"] <= min(last, state.clock)
                and (ids is None or t["account_id"] in ids)
            ]
            matching.sort(key=lambda t: (t["date"], t["investment_transaction_id"]), reverse=True)
            window = matching[offset : offset + count]
            tickers = {t["ticker"] for t in window if t["ticker"]}
            investment_ids = [
                a.account_id
                for a in state.accounts
                if a.is_investment and (ids is None or a.account_id in ids)
            ]
            return {
                "item": wire.item(state),
                "accounts": wire.accounts(state, investment_ids, investment_only=True),
                "securities": wire.securities(state, tickers),
                "investment_transactions": [wire.investment_transaction(t) for t in window],
                "total_investment_transactions": len(matching),
                "is_investments_fallback_item": False,
            }

    # ------------------------------------------------------------------ Institutions, keys
    def institutions_get_by_id(self, body: dict) -> dict:
        validation.require(body, "institution_id", "country_codes")
        codes = validation.string_list(body, "country_codes") or []
        institution = find_institution(validation.string(body, "institution_id") or "")
        if institution is None or "US" not in codes:
            raise PlaidApiError("INVALID_INSTITUTION")
        options = validation.object_field(body, "options")
        return {
            "institution": wire.institution(
                institution,
                validation.boolean(options, "include_optional_metadata"),
                validation.boolean(options, "include_status"),
                datetime.now(UTC).replace(microsecond=0),
            )
        }

    def webhook_verification_key_get(self, body: dict) -> dict:
        validation.require(body, "key_id")
        if validation.string(body, "key_id") != self.signer.kid:
            raise PlaidApiError("INVALID_WEBHOOK_VERIFICATION_KEY_ID")
        return {"key": self.signer.jwk()}

    # ------------------------------------------------------------------ Sandbox endpoints
    def sandbox_item_fire_webhook(self, body: dict) -> dict:
        with self._lock:
            validation.require(body, "access_token", "webhook_code")
            state = self._item(body)
            code = validation.string(body, "webhook_code") or ""
            try:
                kind = webhooks.resolve_webhook_type(code, validation.string(body, "webhook_type"))
            except ValueError as exc:
                raise invalid_field(str(exc)) from None
            if not state.webhook:
                raise PlaidApiError("SANDBOX_WEBHOOK_INVALID")
            return {"webhook_fired": self._fire(state, self._webhook_body(state, kind, code))}

    def _webhook_body(self, state: ItemState, kind: str, code: str) -> dict:
        extra: dict = {}
        if kind == "TRANSACTIONS":
            extra = {
                "SYNC_UPDATES_AVAILABLE": {
                    "initial_update_complete": True,
                    "historical_update_complete": True,
                },
                "TRANSACTIONS_REMOVED": {"removed_transactions": [], "error": None},
                "RECURRING_TRANSACTIONS_UPDATE": {
                    "account_ids": [a.account_id for a in state.accounts if not a.is_investment]
                },
            }.get(code, {"new_transactions": 0, "error": None})
        elif kind == "HOLDINGS":
            extra = {"new_holdings": 0, "updated_holdings": 0, "error": None}
        elif kind == "INVESTMENTS_TRANSACTIONS":
            extra = {
                "new_investments_transactions": 0,
                "canceled_investments_transactions": 0,
                "error": None,
            }
        elif code == "ERROR":
            error = state.error or PlaidApiError("ITEM_LOGIN_REQUIRED")
            extra = {"error": wire.error_object(error, None)}
        elif code == "PENDING_EXPIRATION":
            soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
            extra = {"consent_expiration_time": wire.iso_datetime(soon)}
        elif code == "PENDING_DISCONNECT":
            soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
            extra = {"reason": "INSTITUTION_MIGRATION", "disconnect_time": wire.iso_datetime(soon)}
        elif code == "USER_PERMISSION_REVOKED":
            extra = {"error": None}
        elif code == "WEBHOOK_UPDATE_ACKNOWLEDGED":
            extra = {"new_webhook_url": state.webhook, "error": None}
        return webhooks.payload(kind, code, state.item_id, **extra)

    def sandbox_item_reset_login(self, body: dict) -> dict:
        with self._lock:
            state = self._item(body)
            state.error = PlaidApiError("ITEM_LOGIN_REQUIRED")
            self._fire(state, self._webhook_body(state, "ITEM", "ERROR"))
            return {"reset_login": True}

    # ------------------------------------------------------------------ Admin hooks (not Plaid)
    def admin_advance(self, body: dict) -> dict:
        with self._lock:
            state = self._item(body)
            days = validation.integer(body, "days", 1, 1, HORIZON_DAYS)
            before_inv = sum(1 for t in state.investment_transactions if t["date"] <= state.clock)
            try:
                events = state.advance(days)
            except ValueError as exc:
                raise invalid_field(str(exc)) from None
            new_inv = (
                sum(1 for t in state.investment_transactions if t["date"] <= state.clock)
                - before_inv
            )
            counts = {
                kind: sum(1 for k, _ in events if k == kind)
                for kind in ("added", "modified", "removed")
            }
            fired = bool(events) and self._sync_webhook(state)
            if new_inv:
                self._fire(
                    state,
                    webhooks.payload(
                        "HOLDINGS",
                        "DEFAULT_UPDATE",
                        state.item_id,
                        new_holdings=0,
                        updated_holdings=len(
                            {
                                t["security_id"]
                                for t in state.investment_transactions
                                if t["security_id"]
                            }
                        ),
                        error=None,
                    ),
                )
                self._fire(
                    state,
                    webhooks.payload(
                        "INVESTMENTS_TRANSACTIONS",
                        "DEFAULT_UPDATE",
                        state.item_id,
                        new_investments_transactions=new_inv,
                        canceled_investments_transactions=0,
                        error=None,
                    ),
                )
            return {
                "clock": state.clock.isoformat(),
                **counts,
                "new_investment_transactions": new_inv,
                "webhook_fired": fired,
            }

    def admin_repair(self, body: dict) -> dict:
        """Ends ITEM_LOGIN_REQUIRED, as completing Link in update mode would."""
        with self._lock:
            link_token = validation.string(body, "link_token")
            if link_token is not None:
                session = self._link_tokens.get(link_token)
                if session is None or session["access_token"] is None:
                    raise PlaidApiError(
                        "INVALID_LINK_TOKEN", "link_token is not an update-mode token for an Item"
                    )
                body = {"access_token": session["access_token"]}
            state = self._item(body)
            was_broken = state.error is not None
            state.error = None
            if was_broken:
                self._fire(state, webhooks.payload("ITEM", "LOGIN_REPAIRED", state.item_id))
            return {"repaired": was_broken}

    def admin_fail_next_sync_page(self, body: dict) -> dict:
        with self._lock:
            state = self._item(body)
            state.fail_next_sync_page = True
            return {"armed": True}

    def admin_webhooks(self, body: dict) -> dict:
        idle = self.dispatcher.wait_idle(validation.integer(body, "wait_seconds", 5, 0, 30))
        return {"idle": idle, "deliveries": [d.summary() for d in self.dispatcher.deliveries]}

    def admin_settings(self, body: dict) -> dict:
        with self._lock:
            if "transactions_target" in body:
                target = body["transactions_target"]
                if target is not None:
                    target = validation.integer(body, "transactions_target", 0, 100, 50_000)
                self.settings.transactions_target = target
            return {
                "transactions_target": self.settings.transactions_target,
                "history_days": self.settings.history_days,
                "anchor_date": self.anchor.isoformat(),
            }

    def close(self) -> None:
        self.dispatcher.close()
