"""Investments replay consistently; identifiers are valid; webhook JWTs verify; ids are stable."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

import jwt
import pytest

from aggregation.sandbox.accounts import build_accounts
from aggregation.sandbox.household import build_household
from aggregation.sandbox.ids import opaque_id, token
from aggregation.sandbox.institutions import INSTITUTIONS
from aggregation.sandbox.investing import holdings_at, simulate_investments
from aggregation.sandbox.recurring import amortized_payment
from aggregation.sandbox.securities import FUNDS, PriceBook, isin_from_cusip
from aggregation.sandbox.webhooks import WebhookSigner, resolve_webhook_type

ANCHOR = date(2025, 6, 30)


@pytest.fixture(scope="module")
def portfolio():
    institution = INSTITUTIONS["ins_109511"]
    accounts = build_accounts("inv", institution, ["1", "2", "3", "4", "5", "6"])
    ledger = build_household("inv", institution, accounts, ANCHOR, 730, 30, None)
    prices = PriceBook("s", ANCHOR, ANCHOR - timedelta(days=740), ANCHOR + timedelta(days=40))
    txns = simulate_investments(
        "inv",
        accounts,
        ledger.cash_flows,
        prices,
        ledger.history_start,
        ANCHOR,
        __import__("random").Random(1),
    )
    return accounts, txns, prices


def test_holdings_follow_from_transactions(portfolio):
    _, txns, prices = portfolio
    books = holdings_at(txns, ANCHOR)
    for account_id, book in books.items():
        for ticker, lots in book["positions"].items():
            bought = sum(
                t["quantity"]
                for t in txns
                if t["account_id"] == account_id and t["ticker"] == ticker
            )
            assert sum(lot.quantity for lot in lots) == bought
        assert book["cash"] == -sum(t["amount"] for t in txns if t["account_id"] == account_id)
        assert Decimal(0) <= book["cash"] < Decimal(100)
    lots = [lot for b in books.values() for ls in b["positions"].values() for lot in ls]
    assert any(prices.close(lot.ticker, ANCHOR) < lot.price for lot in lots)


def test_activity_includes_sells_and_reinvested_dividends(portfolio):
    _, txns, _ = portfolio
    kinds = {(t["type"], t["subtype"]) for t in txns}
    assert {
        ("buy", "buy"),
        ("sell", "sell"),
        ("cash", "dividend"),
        ("buy", "dividend reinvestment"),
        ("cash", "contribution"),
    } <= kinds
    sells = [t for t in txns if t["type"] == "sell"]
    assert all(t["quantity"] < 0 and t["amount"] < 0 for t in sells)


def test_real_fund_identifiers_have_valid_check_digits():
    for fund in FUNDS.values():
        digits = [int(ch) if ch.isdigit() else ord(ch) - 55 for ch in fund.cusip[:8]]
        total = sum(
            (v * 2 if i % 2 else v) // 10 + (v * 2 if i % 2 else v) % 10
            for i, v in enumerate(digits)
        )
        assert (10 - total % 10) % 10 == int(fund.cusip[8]), fund.ticker
    assert isin_from_cusip("922908769") == "US9229087690"  # VTI


def test_price_book_range_is_enforced():
    prices = PriceBook("s", ANCHOR, ANCHOR - timedelta(days=10), ANCHOR)
    assert prices.close("VTI", ANCHOR) == Decimal(FUNDS["VTI"].anchor_price)
    with pytest.raises(ValueError, match="no price"):
        prices.close("VTI", ANCHOR + timedelta(days=1))
    with pytest.raises(ValueError, match="anchor"):
        PriceBook("s", ANCHOR, ANCHOR + timedelta(days=1), ANCHOR + timedelta(days=2))


def test_webhook_jwt_verifies_with_the_published_jwk():
    signer = WebhookSigner("seed", 1_700_000_000)
    body = b'{"webhook_code": "SYNC_UPDATES_AVAILABLE"}'
    signed = signer.sign(body, now=1_700_000_100)
    assert jwt.get_unverified_header(signed)["kid"] == signer.kid
    key = jwt.PyJWK.from_dict(
        {k: v for k, v in signer.jwk().items() if k not in ("created_at", "expired_at")}
    ).key
    claims = jwt.decode(signed, key, algorithms=["ES256"])
    assert claims == {"iat": 1_700_000_100, "request_body_sha256": hashlib.sha256(body).hexdigest()}
    assert WebhookSigner("seed", 0).kid == signer.kid
    assert WebhookSigner("other", 0).kid != signer.kid


def test_webhook_types_are_resolved_or_rejected():
    assert resolve_webhook_type("SYNC_UPDATES_AVAILABLE", None) == "TRANSACTIONS"
    assert resolve_webhook_type("LOGIN_REPAIRED", None) == "ITEM"
    assert resolve_webhook_type("DEFAULT_UPDATE", "HOLDINGS") == "HOLDINGS"
    with pytest.raises(ValueError, match="not supported"):
        resolve_webhook_type("NOPE", None)
    with pytest.raises(ValueError, match="not supported"):
        resolve_webhook_type("LOGIN_REPAIRED", "HOLDINGS")


def test_ids_and_tokens_are_deterministic_and_well_formed():
    assert opaque_id("a", 1) == opaque_id("a", 1) != opaque_id("a", 2)
    assert len(opaque_id("a")) == 37
    assert token("access", "x").startswith("access-sandbox-")
    with pytest.raises(ValueError, match="token kind"):
        token("refresh", "x")
    with pytest.raises(ValueError, match="1..43"):
        opaque_id("a", length=0)


def test_amortized_payment():
    # 300,000 at 6% over 30 years: 1,798.65 a month (standard annuity formula)
    assert amortized_payment(Decimal(300000), Decimal("0.06"), 360) == Decimal("1798.65")
    with pytest.raises(ValueError, match="positive"):
        amortized_payment(Decimal(0), Decimal("0.06"), 360)
