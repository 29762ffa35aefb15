"""Every endpoint through the official plaid-python client, which parses and type-checks the
responses (a missing required key or a wrong JSON type raises inside the client)."""

from __future__ import annotations

import json
from datetime import date, datetime

import jwt
import pytest
from plaid.exceptions import ApiException
from plaid.model.accounts_balance_get_request import AccountsBalanceGetRequest
from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.accounts_get_request_options import AccountsGetRequestOptions
from plaid.model.country_code import CountryCode
from plaid.model.institutions_get_by_id_request import InstitutionsGetByIdRequest
from plaid.model.institutions_get_by_id_request_options import InstitutionsGetByIdRequestOptions
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
from plaid.model.sandbox_item_fire_webhook_request import SandboxItemFireWebhookRequest
from plaid.model.sandbox_item_reset_login_request import SandboxItemResetLoginRequest
from plaid.model.sandbox_public_token_create_request import SandboxPublicTokenCreateRequest
from plaid.model.transactions_refresh_request import TransactionsRefreshRequest
from plaid.model.transactions_sync_request import TransactionsSyncRequest
from plaid.model.webhook_verification_key_get_request import WebhookVerificationKeyGetRequest


def error_of(excinfo) -> tuple[int, dict]:
    return excinfo.value.status, json.loads(excinfo.value.body)


def test_link_token_create(client):
    response = client.link_token_create(
        LinkTokenCreateRequest(
            client_name="Nestegg",
            language="en",
            country_codes=[CountryCode("US")],
            user=LinkTokenCreateRequestUser(client_user_id="user-1"),
            products=[Products("transactions")],
        )
    )
    assert response.link_token.startswith("link-sandbox-")
    assert isinstance(response.expiration, datetime)
    assert response.request_id


def test_public_token_exchange_and_item_get(client, item):
    assert item.access_token.startswith("access-sandbox-")
    got = client.item_get(ItemGetRequest(access_token=item.access_token))
    assert got.item.item_id == item.item_id
    assert got.item.institution_id == "ins_109508"
    assert got.item.error is None
    assert sorted(str(p) for p in got.item.billed_products) == ["investments", "transactions"]
    assert got.status.transactions is not None


def test_accounts_get_covers_every_account_kind(client, item):
    accounts = client.accounts_get(AccountsGetRequest(access_token=item.access_token)).accounts
    kinds = {(str(a.type), str(a.subtype)) for a in accounts}
    assert {
        ("depository", "checking"),
        ("depository", "savings"),
        ("credit", "credit card"),
        ("loan", "mortgage"),
        ("investment", "brokerage"),
        ("investment", "roth"),
    } == kinds
    credit = next(a for a in accounts if str(a.type) == "credit")
    assert credit.balances.limit == 12000.0
    assert credit.balances.available == pytest.approx(12000.0 - credit.balances.current, abs=500)
    assert all(len(a.mask) == 4 for a in accounts)


def test_accounts_get_filters_and_rejects_unknown_account_ids(client, item):
    accounts = client.accounts_get(AccountsGetRequest(access_token=item.access_token)).accounts
    first = accounts[0].account_id
    only = client.accounts_get(
        AccountsGetRequest(
            access_token=item.access_token, options=AccountsGetRequestOptions(account_ids=[first])
        )
    )
    assert [a.account_id for a in only.accounts] == [first]
    with pytest.raises(ApiException) as excinfo:
        client.accounts_get(
            AccountsGetRequest(
                access_token=item.access_token,
                options=AccountsGetRequestOptions(account_ids=["nope"]),
            )
        )
    assert error_of(excinfo)[1]["error_code"] == "INVALID_ACCOUNT_ID"


def test_balance_get_matches_accounts_get(client, item):
    plain = client.accounts_get(AccountsGetRequest(access_token=item.access_token)).accounts
    live = client.accounts_balance_get(
        AccountsBalanceGetRequest(access_token=item.access_token)
    ).accounts
    assert [(a.account_id, a.balances.current) for a in plain] == [
        (a.account_id, a.balances.current) for a in live
    ]


def test_transactions_sync_first_page_and_refresh(client, item, receiver):
    page = client.transactions_sync(
        TransactionsSyncRequest(access_token=item.access_token, count=50)
    )
    assert len(page.added) == 50 and page.has_more is True
    assert str(page.transactions_update_status) == "HISTORICAL_UPDATE_COMPLETE"
    assert page.modified == [] and page.removed == []
    txn = page.added[0]
    assert isinstance(txn.date, date) and isinstance(txn.amount, float)
    assert txn.personal_finance_category is None
    client.transactions_refresh(TransactionsRefreshRequest(access_token=item.access_token))
    receiver.wait_for(
        lambda p: p["webhook_code"] == "SYNC_UPDATES_AVAILABLE" and p["item_id"] == item.item_id
    )


def test_investments_holdings_get(client, item):
    response = client.investments_holdings_get(
        InvestmentsHoldingsGetRequest(access_token=item.access_token)
    )
    assert {str(a.subtype) for a in response.accounts} == {"brokerage", "roth"}
    tickers = {s.ticker_symbol for s in response.securities}
    assert "CUR:USD" in tickers and len(tickers - {"CUR:USD"}) >= 4
    by_account = {}
    for holding in response.holdings:
        by_account.setdefault(holding.account_id, 0.0)
        by_account[holding.account_id] += holding.institution_value
    for account in response.accounts:
        # plaid-python 46 cannot read InvestmentAccount.balances as an attribute (its two allOf
        # parts hold different balance classes); to_dict() works. See docs/plaid-sandbox.md.
        current = account.to_dict()["balances"]["current"]
        assert by_account[account.account_id] == pytest.approx(current, abs=0.05)
    lots = [lot for h in response.holdings for lot in (h.get("tax_lots") or [])]
    assert any(lot.current_value < lot.cost_basis for lot in lots), "some lots are at a loss"


def test_investments_transactions_get_pages_with_offset(client, item):
    def fetch(offset):
        return client.investments_transactions_get(
            InvestmentsTransactionsGetRequest(
                access_token=item.access_token,
                start_date=date(2023, 7, 1),
                end_date=date(2025, 6, 30),
                options=InvestmentsTransactionsGetRequestOptions(count=100, offset=offset),
            )
        )

    first, second = fetch(0), fetch(100)
    assert first.total_investment_transactions > 200
    assert len(first.investment_transactions) == 100
    ids = {t.investment_transaction_id for t in first.investment_transactions}
    assert ids.isdisjoint(t.investment_transaction_id for t in second.investment_transactions)
    kinds = {
        (str(t.type), str(t.subtype))
        for t in first.investment_transactions + second.investment_transactions
    }
    assert ("buy", "dividend reinvestment") in kinds and ("cash", "dividend") in kinds


def test_institutions_get_by_id(client):
    response = client.institutions_get_by_id(
        InstitutionsGetByIdRequest(
            institution_id="ins_109511",
            country_codes=[CountryCode("US")],
            options=InstitutionsGetByIdRequestOptions(
                include_optional_metadata=True, include_status=True
            ),
        )
    )
    assert response.institution.name == "Tartan Bank"
    assert response.institution.status.item_logins.status == "HEALTHY"
    with pytest.raises(ApiException) as excinfo:
        client.institutions_get_by_id(
            InstitutionsGetByIdRequest(institution_id="ins_0", country_codes=[CountryCode("US")])
        )
    assert error_of(excinfo)[1]["error_code"] == "INVALID_INSTITUTION"


def test_fire_webhook_is_signed_with_the_published_key(client, item, receiver):
    fired = client.sandbox_item_fire_webhook(
        SandboxItemFireWebhookRequest(access_token=item.access_token, webhook_code="DEFAULT_UPDATE")
    )
    assert fired.webhook_fired is True
    headers, payload, body = receiver.wait_for(
        lambda p: p["webhook_code"] == "DEFAULT_UPDATE" and p["item_id"] == item.item_id
    )
    assert payload["webhook_type"] == "TRANSACTIONS" and payload["environment"] == "sandbox"
    token = headers["Plaid-Verification"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = client.webhook_verification_key_get(WebhookVerificationKeyGetRequest(key_id=kid)).key
    jwk = {k: key[k] for k in ("alg", "crv", "kid", "kty", "use", "x", "y")}
    public_key = jwt.PyJWK.from_dict(jwk).key
    claims = jwt.decode(token, public_key, algorithms=["ES256"])
    import hashlib

    assert claims["request_body_sha256"] == hashlib.sha256(body).hexdigest()
    assert abs(claims["iat"] - datetime.now().timestamp()) < 300
    from cryptography.hazmat.primitives.asymmetric import ec

    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, stranger, algorithms=["ES256"])


def test_unknown_webhook_key_id_is_rejected(client):
    with pytest.raises(ApiException) as excinfo:
        client.webhook_verification_key_get(WebhookVerificationKeyGetRequest(key_id="nope"))
    status, body = error_of(excinfo)
    assert (status, body["error_code"]) == (400, "INVALID_WEBHOOK_VERIFICATION_KEY_ID")


def test_reset_login_blocks_data_until_repaired(client, linker, receiver, admin):
    _, other = linker(webhook=receiver.url)
    assert (
        client.sandbox_item_reset_login(
            SandboxItemResetLoginRequest(access_token=other.access_token)
        ).reset_login
        is True
    )
    _, payload, _ = receiver.wait_for(
        lambda p: p["webhook_code"] == "ERROR" and p["item_id"] == other.item_id
    )
    assert payload["error"]["error_code"] == "ITEM_LOGIN_REQUIRED"
    for call in (
        lambda: client.accounts_get(AccountsGetRequest(access_token=other.access_token)),
        lambda: client.transactions_sync(TransactionsSyncRequest(access_token=other.access_token)),
        lambda: client.investments_holdings_get(
            InvestmentsHoldingsGetRequest(access_token=other.access_token)
        ),
    ):
        with pytest.raises(ApiException) as excinfo:
            call()
        status, body = error_of(excinfo)
        assert (status, body["error_type"], body["error_code"]) == (
            400,
            "ITEM_ERROR",
            "ITEM_LOGIN_REQUIRED",
        )
        assert body["display_message"] and body["request_id"]
    item_view = client.item_get(ItemGetRequest(access_token=other.access_token)).item
    assert item_view.error.error_code == "ITEM_LOGIN_REQUIRED"
    update = client.link_token_create(
        LinkTokenCreateRequest(
            client_name="Nestegg",
            language="en",
            country_codes=[CountryCode("US")],
            user=LinkTokenCreateRequestUser(client_user_id="user-1"),
            access_token=other.access_token,
        )
    )
    status, repaired = admin("/sandbox/admin/item/repair", link_token=update.link_token)
    assert (status, repaired["repaired"]) == (200, True)
    receiver.wait_for(
        lambda p: p["webhook_code"] == "LOGIN_REPAIRED" and p["item_id"] == other.item_id
    )
    assert client.accounts_get(AccountsGetRequest(access_token=other.access_token)).accounts


def test_item_remove_invalidates_the_access_token(client, linker):
    _, other = linker(products=("transactions",))
    assert client.item_remove(ItemRemoveRequest(access_token=other.access_token)).request_id
    with pytest.raises(ApiException) as excinfo:
        client.item_get(ItemGetRequest(access_token=other.access_token))
    status, body = error_of(excinfo)
    assert (status, body["error_type"], body["error_code"]) == (
        400,
        "INVALID_INPUT",
        "INVALID_ACCESS_TOKEN",
    )


def test_wrong_api_keys(server, api_for):
    bad = api_for(server.base_url, server.client_id, "wrong-secret")
    with pytest.raises(ApiException) as excinfo:
        bad.institutions_get_by_id(
            InstitutionsGetByIdRequest(
                institution_id="ins_109508", country_codes=[CountryCode("US")]
            )
        )
    status, body = error_of(excinfo)
    assert (status, body["error_type"], body["error_code"]) == (
        400,
        "INVALID_INPUT",
        "INVALID_API_KEYS",
    )
    for key in (
        "error_message",
        "display_message",
        "request_id",
        "causes",
        "status",
        "documentation_url",
        "suggested_action",
        "error_code_reason",
    ):
        assert key in body


def test_bad_credentials_and_forced_errors(client, linker):
    with pytest.raises(ApiException) as excinfo:
        linker(override_username="user_good", override_password="wrong")
    assert error_of(excinfo)[1]["error_code"] == "INVALID_CREDENTIALS"
    with pytest.raises(ApiException) as excinfo:
        linker(override_username="user_good", override_password="error_ITEM_LOCKED")
    assert error_of(excinfo)[1]["error_code"] == "ITEM_LOCKED"


def test_public_token_is_single_use(client):
    created = client.sandbox_public_token_create(
        SandboxPublicTokenCreateRequest(
            institution_id="ins_109509", initial_products=[Products("transactions")]
        )
    )
    client.item_public_token_exchange(
        ItemPublicTokenExchangeRequest(public_token=created.public_token)
    )
    with pytest.raises(ApiException) as excinfo:
        client.item_public_token_exchange(
            ItemPublicTokenExchangeRequest(public_token=created.public_token)
        )
    assert error_of(excinfo)[1]["error_code"] == "INVALID_PUBLIC_TOKEN"


def test_unknown_institution_at_link(client):
    with pytest.raises(ApiException) as excinfo:
        client.sandbox_public_token_create(
            SandboxPublicTokenCreateRequest(
                institution_id="ins_999", initial_products=[Products("transactions")]
            )
        )
    assert error_of(excinfo)[1]["error_code"] == "INVALID_INSTITUTION"


def test_fire_webhook_without_a_webhook_url(client, linker):
    _, other = linker(products=("transactions",))
    with pytest.raises(ApiException) as excinfo:
        client.sandbox_item_fire_webhook(
            SandboxItemFireWebhookRequest(
                access_token=other.access_token, webhook_code="SYNC_UPDATES_AVAILABLE"
            )
        )
    status, body = error_of(excinfo)
    assert (status, body["error_code"]) == (400, "SANDBOX_WEBHOOK_INVALID")


def test_investments_added_after_link_are_not_ready_at_first(client, linker):
    _, other = linker(products=("transactions",))
    request = InvestmentsTransactionsGetRequest(
        access_token=other.access_token, start_date=date(2025, 1, 1), end_date=date(2025, 6, 30)
    )
    with pytest.raises(ApiException) as excinfo:
        client.investments_transactions_get(request)
    assert error_of(excinfo)[1]["error_code"] == "PRODUCT_NOT_READY"
    assert client.investments_transactions_get(request).total_investment_transactions > 0


def test_transactions_added_after_link_report_not_ready_once(client, linker):
    _, other = linker(products=("investments",))
    first = client.transactions_sync(TransactionsSyncRequest(access_token=other.access_token))
    assert str(first.transactions_update_status) == "NOT_READY"
    assert first.next_cursor == "" and first.added == []
    second = client.transactions_sync(TransactionsSyncRequest(access_token=other.access_token))
    assert second.added


def test_invalid_requests_answer_plaid_invalid_request_errors(item, admin):
    status, body = admin("/transactions/sync", access_token=item.access_token, count=501)
    assert (status, body["error_type"], body["error_code"]) == (
        400,
        "INVALID_REQUEST",
        "INVALID_FIELD",
    )
    status, body = admin("/transactions/sync")
    assert (status, body["error_code"]) == (400, "MISSING_FIELDS")
    assert "access_token" in body["error_message"]
    status, body = admin("/transactions/sync", access_token=item.access_token, cursor="garbage")
    assert (status, body["error_code"]) == (400, "INVALID_FIELD")
    status, body = admin("/no/such/endpoint")
    assert (status, body["error_code"]) == (404, "NOT_FOUND")
