"""Plaid JSON shapes (API 2020-09-14, as modelled by plaid-python 46): every required key is
present, null where the schema allows it, numbers as JSON numbers, dates as ISO strings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from .accounts import AccountSpec
from .errors import error_object
from .institutions import Institution
from .items import ItemState
from .money import to_wire
from .securities import CASH_TICKER, FUNDS, security_id, security_wire

_CENT = Decimal("0.01")


def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def account(spec: AccountSpec, balances: dict) -> dict:
    body = {
        "account_id": spec.account_id,
        "balances": {
            "available": to_wire(balances["available"]),
            "current": to_wire(balances["current"]),
            "limit": to_wire(balances["limit"]),
            "iso_currency_code": "USD",
            "unofficial_currency_code": None,
            "last_updated_datetime": None,
        },
        "holder_category": "personal",
        "mask": spec.mask,
        "name": spec.name,
        "official_name": spec.official_name,
        "persistent_account_id": spec.account_id,
        "subtype": spec.subtype,
        "type": spec.type,
    }
    if spec.is_investment:
        body["balances"]["margin_loan_amount"] = None
    return body


def accounts(
    state: ItemState, account_ids: list[str] | None = None, investment_only: bool = False
) -> list[dict]:
    balances = state.balances()
    return [
        account(spec, balances[spec.account_id])
        for spec in state.accounts
        if (account_ids is None or spec.account_id in account_ids)
        and (not investment_only or spec.is_investment)
    ]


def item(state: ItemState, with_consent_fields: bool = False) -> dict:
    body = {
        "item_id": state.item_id,
        "institution_id": state.institution.institution_id,
        "institution_name": state.institution.name,
        "webhook": state.webhook,
        "auth_method": None,
        "error": error_object(state.error, None) if state.error else None,
        "available_products": sorted(set(state.institution.products) - set(state.billed_products)),
        "billed_products": sorted(state.billed_products),
        "products": sorted(state.products),
        "consented_products": sorted(state.products),
        "consent_expiration_time": None,
        "update_type": "background",
    }
    if with_consent_fields:
        body["created_at"] = iso_datetime(state.created_at)
    return body


def item_status(state: ItemState) -> dict:
    status = {
        "investments": {
            "last_successful_update": iso_datetime(state.last_investments_update),
            "last_failed_update": None,
        },
        "transactions": {
            "last_successful_update": iso_datetime(state.last_transactions_update),
            "last_failed_update": None,
        },
    }
    if state.last_webhook is not None:  # code_sent is a non-nullable string
        sent_at, code = state.last_webhook
        status["last_webhook"] = {"sent_at": iso_datetime(sent_at), "code_sent": code}
    return status


def transaction(view: dict, include_original_description: bool) -> dict:
    return {
        "account_id": view["account_id"],
        "account_owner": None,
        "amount": to_wire(view["amount"]),
        "iso_currency_code": "USD",
        "unofficial_currency_code": None,
        "category": None,
        "category_id": None,
        "check_number": view["check_number"],
        "counterparties": [],
        "date": iso_date(view["date"]),
        "datetime": None,
        "authorized_date": iso_date(view["authorized_date"]),
        "authorized_datetime": iso_datetime(view["authorized_datetime"]),
        "location": dict(view["location"]),
        "name": view["name"],
        "merchant_name": view["merchant_name"],
        "merchant_entity_id": None,
        "logo_url": None,
        "website": view["website"],
        "original_description": view["name"] if include_original_description else None,
        "payment_channel": view["payment_channel"],
        "payment_meta": dict(view["payment_meta"]),
        "pending": view["pending"],
        "pending_transaction_id": view["pending_transaction_id"],
        "personal_finance_category": None,
        "transaction_code": None,
        "transaction_id": view["transaction_id"],
        "transaction_type": "special" if view["payment_channel"] == "other" else "place",
    }


def removed_transaction(view: dict) -> dict:
    return {"transaction_id": view["transaction_id"], "account_id": view["account_id"]}


def investment_transaction(txn: dict) -> dict:
    return {
        "investment_transaction_id": txn["investment_transaction_id"],
        "account_id": txn["account_id"],
        "security_id": txn["security_id"],
        "date": iso_date(txn["date"]),
        "transaction_datetime": None,
        "name": txn["name"],
        "quantity": to_wire(txn["quantity"]),
        "amount": to_wire(txn["amount"]),
        "price": to_wire(txn["price"]),
        "fees": to_wire(txn["fees"]),
        "type": txn["type"],
        "subtype": txn["subtype"],
        "iso_currency_code": "USD",
        "unofficial_currency_code": None,
        "cancel_transaction_id": None,
    }


def holdings(state: ItemState, books: dict, account_ids: list[str]) -> tuple[list, set[str]]:
    """Plaid Holding objects (with tax lots) and the tickers they reference."""
    clock, prices = state.clock, state.prices
    result, tickers = [], set()
    for account_id in account_ids:
        book = books.get(account_id)
        if book is None:
            continue
        for ticker, lots in sorted(book["positions"].items()):
            price = prices.close(ticker, clock)
            quantity = sum(lot.quantity for lot in lots)
            cost = sum(lot.cost for lot in lots)
            tickers.add(ticker)
            result.append(
                {
                    "account_id": account_id,
                    "security_id": security_id(ticker),
                    "institution_price": to_wire(price),
                    "institution_price_as_of": iso_date(clock),
                    "institution_price_datetime": None,
                    "institution_value": to_wire((quantity * price).quantize(_CENT)),
                    "cost_basis": to_wire(cost),
                    "quantity": to_wire(quantity),
                    "iso_currency_code": "USD",
                    "unofficial_currency_code": None,
                    "vested_quantity": None,
                    "vested_value": None,
                    "tax_lots": [_tax_lot(lot, price) for lot in lots],
                }
            )
        cash = book["cash"].quantize(_CENT)
        if cash != 0:
            tickers.add(CASH_TICKER)
            result.append(
                {
                    "account_id": account_id,
                    "security_id": security_id(CASH_TICKER),
                    "institution_price": 1.0,
                    "institution_price_as_of": iso_date(clock),
                    "institution_price_datetime": None,
                    "institution_value": to_wire(cash),
                    "cost_basis": to_wire(cash),
                    "quantity": to_wire(cash),
                    "iso_currency_code": "USD",
                    "unofficial_currency_code": None,
                    "vested_quantity": None,
                    "vested_value": None,
                }
            )
    return result, tickers


def _tax_lot(lot, price) -> dict:
    return {
        "institution_lot_id": lot.lot_id,
        "original_purchase_datetime": f"{lot.bought.isoformat()}T14:30:00Z",
        "quantity": to_wire(lot.quantity),
        "purchase_price": to_wire(lot.price),
        "cost_basis": to_wire(lot.cost),
        "current_value": to_wire((lot.quantity * price).quantize(_CENT)),
        "position_type": "long",
    }


def securities(state: ItemState, tickers: set[str]) -> list[dict]:
    known = [t for t in sorted(tickers) if t == CASH_TICKER or t in FUNDS]
    return [security_wire(t, state.prices, state.clock) for t in known]


def institution(
    inst: Institution, include_optional_metadata: bool, include_status: bool, now: datetime
) -> dict:
    body = {
        "institution_id": inst.institution_id,
        "name": inst.name,
        "products": list(inst.products),
        "country_codes": ["US"],
        "routing_numbers": list(inst.routing_numbers),
        "dtc_numbers": [],
        "oauth": False,
        "connection_availability": "AVAILABLE",
        "url": None,
        "primary_color": None,
        "logo": None,
    }
    if include_optional_metadata:
        body.update(url=inst.url, primary_color=inst.primary_color)
    if include_status:
        healthy = {
            "status": "HEALTHY",
            "last_status_change": iso_datetime(now),
            "breakdown": {"success": 0.99, "error_plaid": 0.005, "error_institution": 0.005},
        }
        body["status"] = {
            "item_logins": healthy,
            "transactions_updates": healthy,
            "investments_updates": healthy,
            "health_incidents": [],
        }
    return body
