"""Plaid JSON (money already Decimal) -> the plain shapes our events carry.

Amounts keep Plaid's sign: positive = money leaves the account. Money is Decimal here and a
decimal string once the event schema dumps it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def money(value) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):  # never expected (parse_float=Decimal); refuse to guess
        raise TypeError("money arrived as float")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def day(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def transaction(t: dict) -> dict:
    return {
        "transaction_id": t["transaction_id"],
        "account_id": t["account_id"],
        "amount": money(t["amount"]),
        "iso_currency_code": t.get("iso_currency_code"),
        "unofficial_currency_code": t.get("unofficial_currency_code"),
        "date": day(t["date"]),
        "authorized_date": day(t.get("authorized_date")),
        "name": t.get("name") or "",
        "merchant_name": t.get("merchant_name"),
        "original_description": t.get("original_description"),
        "pending": bool(t.get("pending")),
        "pending_transaction_id": t.get("pending_transaction_id"),
        "payment_channel": t.get("payment_channel"),
    }


def removed(r: dict) -> dict:
    return {"transaction_id": r["transaction_id"], "account_id": r.get("account_id")}


def account(a: dict) -> dict:
    balances = a.get("balances") or {}
    return {
        "account_id": a["account_id"],
        "name": a.get("name") or "",
        "official_name": a.get("official_name"),
        "mask": a.get("mask"),
        "type": str(a.get("type") or "other"),
        "subtype": None if a.get("subtype") is None else str(a["subtype"]),
        "current": money(balances.get("current")),
        "available": money(balances.get("available")),
        "limit": money(balances.get("limit")),
        "iso_currency_code": balances.get("iso_currency_code"),
    }


def security(s: dict) -> dict:
    return {
        "security_id": s["security_id"],
        "ticker": s.get("ticker_symbol"),
        "name": s.get("name"),
        "type": s.get("type"),
        "cusip": s.get("cusip"),
        "isin": s.get("isin"),
        "close_price": money(s.get("close_price")),
        "close_price_as_of": day(s.get("close_price_as_of")),
        "iso_currency_code": s.get("iso_currency_code"),
    }


def holding(h: dict) -> dict:
    return {
        "account_id": h["account_id"],
        "security_id": h["security_id"],
        "quantity": money(h["quantity"]),
        "cost_basis": money(h.get("cost_basis")),
        "institution_price": money(h.get("institution_price")),
        "institution_value": money(h.get("institution_value")),
        "iso_currency_code": h.get("iso_currency_code"),
    }


def investment_transaction(t: dict) -> dict:
    return {
        "investment_transaction_id": t["investment_transaction_id"],
        "account_id": t["account_id"],
        "security_id": t.get("security_id"),
        "date": day(t["date"]),
        "name": t.get("name") or "",
        "type": t.get("type"),
        "subtype": t.get("subtype"),
        "quantity": money(t.get("quantity")),
        "price": money(t.get("price")),
        "amount": money(t.get("amount")),
        "fees": money(t.get("fees")),
        "iso_currency_code": t.get("iso_currency_code"),
    }
