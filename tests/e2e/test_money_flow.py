"""The money flow over the real stack (six services and gunicorn as processes, the Plaid sandbox
as a process), through HTTP only, as a user and their client would:

register -> sign in (OAuth code flow + PKCE, password) -> enrol TOTP -> sign in again with the
TOTP (step-up satisfied) -> link a sandbox bank -> the first sync reaches transactions (sign
flipped, categorised) and portfolio -> accounts, balances, holdings, net worth, a goal and its
projection -> the bank has new transactions, Plaid's signed webhook reaches the gateway -> the
new transactions appear.
"""

import datetime as dt
import secrets
import time
from decimal import Decimal
from urllib.parse import urlencode, urljoin

import pytest
import requests
from _support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "velvet lantern drifts over quiet hills"
SCOPES = (
    "profile:read profile:write accounts:read accounts:link accounts:write "
    "transactions:read transactions:write portfolio:read portfolio:write offline_access"
)


@pytest.fixture(scope="module")
def categorizer_model():
    """A trained categorisation model in the test deployment's artefact store (trained once,
    then reused from $NESTEGG_STATE_DIR/models); the transactions service loads it lazily."""
    from _support.categorizer_data import deployment_test_model

    return deployment_test_model()


@pytest.fixture(scope="module")
def client_id(stack):
    """A first-party public client allowed every scope this flow needs, registered the way
    ``nestegg clients add`` does (the users service RPC, as the gateway's broker user)."""
    from common.rpc_pool import RpcPool
    from gateway.cli import register_client

    with RpcPool(stack.settings.amqp_uri("gateway"), size=1, timeout=10.0) as pool:
        created = register_client(
            pool,
            name="Nestegg e2e money flow",
            redirect_uris=["http://127.0.0.1/callback"],
            scopes=SCOPES.split(),
            public=True,
            first_party=True,
        )
    return created["client_id"]


class Api:
    def __init__(self, base: str):
        self.base = base
        self.token = None

    def call(self, method, path, status=200, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = requests.request(method, self.base + path, headers=headers, timeout=60, **kwargs)
        assert response.status_code == status, (
            method,
            path,
            response.status_code,
            response.text[:800],
        )
        return response.json() if response.content else None


def sign_in(base: str, client_id: str, email: str, totp: str | None = None) -> dict:
    """The authorization code flow with PKCE, filling in the sign-in form as ``nestegg login
    --email`` does (gateway/cli.py helpers), the code received on a loopback listener."""
    from gateway.cli import LoopbackReceiver, pkce_pair, post_sign_in_form

    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    with LoopbackReceiver() as receiver, requests.Session() as session:
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": receiver.redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "prompt": "login",
        }
        location = post_sign_in_form(
            session,
            f"{base}/oauth/authorize?{urlencode(query)}",
            email=email,
            password=PASSWORD,
            totp_source=lambda required: totp,
        )
        assert location.startswith(receiver.redirect_uri), location
        session.get(location, timeout=30)
        result = receiver.wait(30)
        assert result.get("state") == state and result.get("code"), result
        token = session.post(
            urljoin(base, "/oauth/token"),
            data={
                "grant_type": "authorization_code",
                "code": result["code"],
                "code_verifier": verifier,
                "redirect_uri": receiver.redirect_uri,
                "client_id": client_id,
            },
            timeout=30,
        )
    assert token.status_code == 200, token.text
    return token.json()


def sandbox_call(stack, path: str, timeout: float = 30, **body) -> requests.Response:
    """POST to the Plaid sandbox with the deployment's client id and secret."""
    credentials = {"client_id": "nestegg-sandbox-client", "secret": "nestegg-sandbox-secret"}
    return requests.post(f"{stack.plaid_url}{path}", json={**credentials, **body}, timeout=timeout)


def sandbox_access_token(stack, accounts: list[dict]) -> str:
    """The sandbox's access token of the one Item this test linked: sandbox tokens are derived
    from the seed and the Item's ordinal (docs/plaid-sandbox.md); confirmed by the masks."""
    from aggregation.sandbox.ids import token

    masks = {a["mask"] for a in accounts}
    for ordinal in range(1, 6):
        candidate = token("access", f"{stack.plaid_seed}/item/{ordinal}")
        response = sandbox_call(stack, "/accounts/get", access_token=candidate)
        if response.ok and {a["mask"] for a in response.json()["accounts"]} == masks:
            return candidate
    raise AssertionError("the linked Item was not found in the sandbox")


def test_money_flows_from_the_bank_to_the_user(stack, client_id, categorizer_model):
    base = stack.gateway_url
    api = Api(base)
    email = f"e2e.{secrets.token_hex(6)}@example.org"

    # register, sign in with the password, enrol TOTP
    api.call("POST", "/v1/users", 201, json={"email": email, "password": PASSWORD, "name": "Ada"})
    api.token = sign_in(base, client_id, email)["access_token"]
    enrolment = api.call("POST", "/v1/me/mfa/totp", 201)
    import pyotp

    totp = pyotp.TOTP(enrolment["secret"])
    api.call("POST", "/v1/me/mfa/totp/confirm", json={"code": totp.at(time.time() - 30)})
    # linking a bank needs a recent second factor: without it, 401 step_up_required
    refused = requests.post(
        f"{base}/v1/link/token", headers={"Authorization": f"Bearer {api.token}"}, timeout=30
    )
    assert refused.status_code in (401, 403), refused.text
    tokens = sign_in(base, client_id, email, totp=totp.now())
    api.token = tokens["access_token"]
    assert set(SCOPES.split()) - {"offline_access"} <= set(tokens["scope"].split())

    # link a sandbox bank through the gateway (step-up satisfied)
    public = api.call(
        "POST", "/v1/link/sandbox/public-token", 201, json={"institution_id": "ins_109508"}
    )
    item = api.call("POST", "/v1/items", 201, json={"public_token": public["public_token"]})
    assert item["institution_name"] and item["accounts"]

    # the first sync: aggregation -> events -> transactions (categorised) and portfolio
    def first_page():
        page = api.call("GET", "/v1/transactions", params={"limit": 500})
        return page if len(page["items"]) >= 100 else None

    page = wait_until(first_page, timeout=120)
    assert page, "no transactions reached the user"
    amounts = [Decimal(t["amount"]) for t in page["items"]]
    assert any(a < 0 for a in amounts) and any(a > 0 for a in amounts)
    categorised = [t for t in page["items"] if t["category_primary"]]
    assert len(categorised) >= len(page["items"]) // 2, "most transactions should be categorised"
    assert {t["category_source"] for t in categorised} & {"model", "rule", "provider"}

    accounts = api.call("GET", "/v1/accounts")["accounts"]
    checking = next(a for a in accounts if a["subtype"] == "checking")
    assert Decimal(checking["current"]) > 0 and checking["balance_as_of"]
    items = api.call("GET", "/v1/items")["items"]
    assert items[0]["health"]["status"] == "healthy"

    holdings = wait_until(lambda: api.call("GET", "/v1/holdings")["accounts"], timeout=60)
    assert holdings, "no holdings reached the user"
    positions = [p for a in holdings for p in a["positions"]]
    funds = [p for p in positions if not p["ticker"].startswith("CUR:")]
    assert funds and all(Decimal(p["market_value"]) > 0 for p in funds), positions

    today = dt.date.today()
    worth = wait_until(
        lambda: api.call(
            "GET",
            "/v1/net-worth",
            params={"start": (today - dt.timedelta(days=7)).isoformat(), "end": today.isoformat()},
        )["points"],
        timeout=30,
    )
    latest = worth[-1]
    assert Decimal(latest["assets"]) > 0 and Decimal(latest["liabilities"]) > 0
    assert Decimal(latest["net"]) == Decimal(latest["assets"]) - Decimal(latest["liabilities"])

    goal = api.call(
        "POST",
        "/v1/goals",
        201,
        json={
            "kind": "retirement",
            "name": "Retire",
            "target_amount": "1500000",
            "target_date": (today + dt.timedelta(days=365 * 25)).isoformat(),
            "monthly_contribution": "2000",
            "linked_account_ids": [a["account_id"] for a in holdings],
        },
    )
    projection = api.call(
        "GET", f"/v1/goals/{goal['id']}/projection", params={"paths": 1000, "seed": 1}
    )
    assert Decimal(projection["starting_balance"]) > 0
    assert 0 <= projection["success_probability"] <= 1 and projection["percentiles"]

    # the bank gets new activity; its signed webhook reaches the gateway; new rows appear
    before = {t["id"] for t in page["items"]}
    access_token = sandbox_access_token(stack, item["accounts"])
    advanced = sandbox_call(
        stack, "/sandbox/admin/advance", timeout=60, access_token=access_token, days=5
    )
    assert advanced.ok, advanced.text
    deliveries = sandbox_call(stack, "/sandbox/admin/webhooks", wait_seconds=10).json()[
        "deliveries"
    ]
    accepted = [
        d for d in deliveries
        if d["webhook_code"] == "SYNC_UPDATES_AVAILABLE" and d["status"] == 200
    ]  # fmt: skip
    assert len(accepted) >= 2, deliveries  # at link time and after the new activity

    def new_rows():
        latest_page = api.call("GET", "/v1/transactions", params={"limit": 100})
        fresh = [t for t in latest_page["items"] if t["id"] not in before]
        return fresh

    fresh = wait_until(new_rows, timeout=90)
    assert fresh, f"no new transactions after the webhook; deliveries: {deliveries[-3:]}"
    assert max(t["date"] for t in fresh) > max(t["date"] for t in page["items"])

    # the account export holds what every service has about the user (step-up is still fresh)
    export = api.call("GET", "/v1/me/export")
    assert export["omitted"] == [] and export["profile"]["email"] == email
    assert len(export["transactions"]["transactions"]) >= len(page["items"])
    assert [i["item_id"] for i in export["bank_connections"]["items"]] == [item["item_id"]]
    assert [g["id"] for g in export["investments"]["goals"]] == [goal["id"]]
    assert access_token not in str(export)

    # deleting the account erases it in every service, and ends the bank connection at Plaid
    import jwt

    user_id = jwt.decode(api.token, options={"verify_signature": False})["sub"]
    api.call("DELETE", "/v1/me", 204)
    assert (
        requests.get(
            f"{base}/v1/me", headers={"Authorization": f"Bearer {api.token}"}, timeout=30
        ).status_code
        == 401
    )
    from sqlalchemy import create_engine, text

    def rows(service, table):
        engine = create_engine(stack.settings.database_url(service))
        try:
            with engine.connect() as conn:
                query = text(f"SELECT count(*) FROM {table} WHERE user_id = :u")  # noqa: S608
                return conn.execute(query, {"u": user_id}).scalar()
        finally:
            engine.dispose()

    places = [
        ("aggregation", "items"),
        ("transactions", "transactions"),
        ("portfolio", "accounts"),
        ("portfolio", "goals"),
    ]
    assert wait_until(lambda: all(rows(s, t) == 0 for s, t in places), timeout=60), [
        (s, t, rows(s, t)) for s, t in places
    ]
    gone = sandbox_call(stack, "/accounts/get", access_token=access_token)
    assert gone.status_code == 400 and gone.json()["error_code"] in (
        "ITEM_NOT_FOUND",
        "INVALID_ACCESS_TOKEN",
    ), gone.text
