"""The domain views without servers (fast): an in-memory auth store, a fresh issuer and a fake
RPC client recording every call. What crosses to the services (the token as ``principal``,
plain JSON only, idempotency keys, the PATCH split, the webhook's exact body), the shared field
types, the pass-through response schemas, and 422s that never reach a service."""

import base64
import decimal
import io
import threading
import time

import marshmallow as ma
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from common.config import Settings
from common.errors import NotFound, Unauthenticated, ValidationFailed
from gateway.api.accounts_schemas import DateText, DecimalText, Out

SETTINGS = Settings()
TOKEN_SCOPES = (
    "accounts:read accounts:link accounts:write transactions:read transactions:write "
    "portfolio:read portfolio:write"
)


class RecordingRpc:
    """Answers from ``replies[(service, method)]`` (value, exception or callable), else ``{}``."""

    def __init__(self):
        self.replies = {("users", "get_session_state"): {"sessions_valid_after": None}}
        self.calls = []
        self.lock = threading.Lock()

    def call(self, service, method, *args, timeout=None, **kwargs):
        with self.lock:
            self.calls.append((service, method, args, kwargs))
        reply = self.replies.get((service, method), {})
        if isinstance(reply, BaseException):
            raise reply
        return reply(*args, **kwargs) if callable(reply) else reply

    def domain_calls(self):
        return [c for c in self.calls if c[0] != "users"]

    def check_broker(self, timeout=2.0):
        pass

    def close(self):
        pass


class FakeRedis:
    def ping(self):
        return True


@pytest.fixture
def setup():
    from gateway.app import create_app
    from gateway.auth.config import AuthConfig
    from gateway.auth.storage import AuthStore, MemoryBackend
    from gateway.auth.tokens import AccessTokenIssuer
    from gateway.config import GatewayConfig

    issuer = AccessTokenIssuer(
        ec.generate_private_key(ec.SECP256R1()),
        kid="offline-kid",
        issuer=SETTINGS.jwt_issuer,
        audience=SETTINGS.jwt_audience,
    )
    rpc = RecordingRpc()
    app = create_app(
        SETTINGS,
        rpc,
        redis=FakeRedis(),
        gateway_config=GatewayConfig(ready_timeout=0.5),
        auth_store=AuthStore(MemoryBackend()),
        auth_config=AuthConfig(ratelimit_storage_uri="memory://"),
        token_issuer=issuer,
    )
    token = issuer.issue(
        "u-offline",
        scope=TOKEN_SCOPES,
        amr=("pwd", "otp"),
        auth_time=int(time.time()),
        client_id="nestegg-cli",
        mfa=True,
    ).token
    client = app.test_client()

    def call(method, path, **kwargs):
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return client.open(path, method=method, headers=headers, **kwargs)

    return type("Setup", (), {"rpc": rpc, "token": token, "call": staticmethod(call)})


def only_plain_json(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and only_plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_plain_json(v) for v in value)
    return value is None or isinstance(value, str | int | bool) and not isinstance(value, float)


# --- field types -----------------------------------------------------------------------------
class Amounts(ma.Schema):
    amount = DecimalText()
    small = DecimalText(places=4)
    day = DateText()


def test_decimal_text_keeps_the_exact_digits_as_a_string():
    schema = Amounts()
    assert schema.load({"amount": "12.50"}) == {"amount": "12.50"}
    assert schema.load({"amount": decimal.Decimal("-0.1")}) == {"amount": "-0.1"}
    assert schema.load({"amount": 7}) == {"amount": "7"}
    assert schema.load({"amount": " 3.00 "}) == {"amount": "3.00"}
    assert schema.load({"amount": "1E+2"}) == {"amount": "100"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0.1, "not JSON floats"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("12,50", "Not a valid decimal"),
        (True, "Not a valid decimal"),
        ([1], "Not a valid decimal"),
    ],
)
def test_decimal_text_refuses_garbage(value, message):
    with pytest.raises(ma.ValidationError) as error:
        Amounts().load({"amount": value})
    assert message in str(error.value.messages["amount"])


def test_decimal_text_places_and_date_text():
    with pytest.raises(ma.ValidationError, match="At most 4 decimal places"):
        Amounts().load({"small": "1.23456"})
    assert Amounts().load({"day": "2024-02-29"}) == {"day": "2024-02-29"}
    for bad in ("2025-02-29", "2025-13-01", "yesterday", "2025-1-1x"):
        with pytest.raises(ma.ValidationError, match="Not a valid date"):
            Amounts().load({"day": bad})


def test_response_schema_passes_values_through_and_drops_undeclared_keys():
    class Report(Out):
        total = ma.fields.Integer()  # declared as a number, but the value is passed as is
        nested = ma.fields.String()

    original = {"total": "100.00", "nested": {"a": ["1.50"]}, "secret": "x"}
    assert Report().dump(original) == {"total": "100.00", "nested": {"a": ["1.50"]}}
    assert Report().dump([original], many=True) == [{"total": "100.00", "nested": {"a": ["1.50"]}}]


# --- what crosses the RPC boundary ------------------------------------------------------------
ROUTES = [
    ("GET", "/v1/items", None, ("aggregation", "list_items")),
    ("GET", "/v1/accounts", None, ("aggregation", "list_accounts")),
    ("POST", "/v1/items", {"public_token": "public-x"}, ("aggregation", "exchange_public_token")),
    ("POST", "/v1/items/i-1/refresh", None, ("aggregation", "refresh_item")),
    ("DELETE", "/v1/items/i-1", None, ("aggregation", "delete_item")),
    ("GET", "/v1/transactions?min_amount=-10.5", None, ("transactions", "list_transactions")),
    ("GET", "/v1/budgets?month=2025-05-01", None, ("transactions", "list_budgets")),
    ("POST", "/v1/budgets", {"category": "FOOD_AND_DRINK", "amount": 400}, None),
    ("GET", "/v1/holdings", None, ("portfolio", "list_holdings")),
    ("PUT", "/v1/portfolio/target-allocation", {"weights": {"us_stocks": 1}}, None),
    ("POST", "/v1/portfolio/optimize", {"asset_classes": ["a", "b"], "objective": "x"}, None),
    ("GET", "/v1/net-worth?start=2025-01-01&end=2025-02-01", None, ("portfolio", "net_worth")),
    ("GET", "/v1/goals/g-1/projection?paths=500", None, ("portfolio", "goal_projection")),
]


@pytest.mark.parametrize(("method", "path", "body", "target"), ROUTES)
def test_the_token_is_the_principal_and_arguments_are_plain_json(setup, method, path, body, target):
    response = setup.call(method, path, json=body)
    assert response.status_code < 300, response.get_json()
    [(service, rpc_method, args, kwargs)] = setup.rpc.domain_calls()
    if target:
        assert (service, rpc_method) == target
    assert args[0] == setup.token
    assert only_plain_json(list(args[1:])) and only_plain_json(kwargs), args


def test_exact_json_numbers_travel_as_decimal_strings(setup):
    setup.call("PUT", "/v1/portfolio/tax-profile", json={
        "short_term_rate": decimal.Decimal("0.32"), "long_term_rate": 0, "carryforward": "10",
    })  # fmt: skip
    [(_, _, args, _)] = setup.rpc.domain_calls()
    assert args[1] == {"short_term_rate": "0.32", "long_term_rate": "0", "carryforward": "10"}


def test_bad_input_is_422_before_any_service_call(setup):
    for method, path, body in (
        ("GET", "/v1/transactions?colour=blue", None),
        ("GET", "/v1/transactions?start=2025-02-30", None),
        ("GET", "/v1/transactions?limit=0", None),
        ("GET", "/v1/net-worth?start=2025-01-01", None),
        ("POST", "/v1/transactions", {"amount": "1.00"}),
        ("POST", "/v1/goals", {"kind": "house", "name": "x", "target_amount": 1e3}),
        ("PUT", "/v1/portfolio/target-allocation", {"weights": {"us_stocks": "NaN"}}),
        ("POST", "/v1/items", {"public_token": "p", "user_id": "someone-else"}),
    ):
        response = setup.call(method, path, json=body)
        assert response.status_code == 422, (path, response.get_json())
        assert response.mimetype == "application/problem+json"
    assert setup.rpc.domain_calls() == []


def test_service_errors_keep_their_status_and_field_errors(setup):
    setup.rpc.replies[("portfolio", "create_goal")] = ValidationFailed.from_messages(
        {"target_date": ["Must be in the future."]}
    )
    setup.rpc.replies[("portfolio", "get_goal")] = NotFound("No such goal")
    response = setup.call("POST", "/v1/goals", json={
        "kind": "house", "name": "Flat", "target_amount": "1", "target_date": "2001-01-01",
    })  # fmt: skip
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"target_date": ["Must be in the future."]}
    assert setup.call("GET", "/v1/goals/g-2").status_code == 404


def test_idempotency_keys_reach_the_services(setup):
    body = {"account_id": "a", "amount": "-1.00", "date": "2025-05-01", "description": "Tea"}
    setup.call("POST", "/v1/transactions", json=body, headers={"Idempotency-Key": "k-12345678"})
    goal = {"kind": "house", "name": "Flat", "target_amount": "1", "target_date": "2040-01-01"}
    setup.call("POST", "/v1/goals", json=goal, headers={"Idempotency-Key": "g-1"})
    manual, created = setup.rpc.domain_calls()
    assert manual[3] == {"idempotency_key": "k-12345678"}
    assert created[2][1]["idempotency_key"] == "g-1"


def test_patch_sends_manual_fields_to_the_manual_rpc_and_hidden_after(setup):
    setup.call("PATCH", "/v1/transactions/t-1", json={"notes": "n", "hidden": True})
    setup.call("PATCH", "/v1/transactions/t-2", json={"amount": "-2.00", "hidden": True})
    calls = [(m, a[1:]) for _, m, a, _ in setup.rpc.domain_calls()]
    assert calls == [
        ("update_transaction", ("t-1", {"notes": "n", "hidden": True})),
        ("update_manual_transaction", ("t-2", {"amount": "-2.00"})),
        ("update_transaction", ("t-2", {"hidden": True})),
    ]


def test_returns_accounts_repeat_in_the_query(setup):
    setup.call(
        "GET", "/v1/portfolio/returns?start=2025-01-01&end=2025-02-01&account_id=a&account_id=b"
    )
    [(_, _, args, _)] = setup.rpc.domain_calls()
    assert args[1] == {"start": "2025-01-01", "end": "2025-02-01", "account_ids": ["a", "b"]}


def test_csv_export_is_text_csv(setup):
    setup.rpc.replies[("transactions", "export_transactions_csv")] = (
        "date,amount\n2025-05-01,-1.00\n"
    )
    response = setup.call("GET", "/v1/transactions/export.csv?start=2025-05-01")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True).startswith("date,amount")


def test_multipart_import_is_forwarded_as_base64(setup):
    content = b"Date,Description,Amount\n2025-05-01,TEA,-1.00\n"
    response = setup.call(
        "POST",
        "/v1/imports",
        data={
            "file": (io.BytesIO(content), "may.csv"),
            "mapping": '{"date": "Date", "description": "Description", "amount": "Amount"}',
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    [(_, method, args, _)] = setup.rpc.domain_calls()
    assert method == "import_file" and args[1]["filename"] == "may.csv"
    assert base64.b64decode(args[1]["content_base64"]) == content
    assert args[1]["mapping"]["amount_sign"] == "negative_is_out"


def test_webhook_forwards_the_exact_body_and_only_its_signature_header(setup):
    from gateway.app import create_app  # noqa: F401 - the app is built by the fixture

    rpc = setup.rpc
    rpc.replies[("aggregation", "handle_plaid_webhook")] = {"accepted": True, "action": "ignored"}
    body = b'{"webhook_type": "TRANSACTIONS",  "item_id": "x"}\n'
    client_response = setup.call(
        "POST",
        "/webhooks/plaid",
        data=body,
        content_type="application/json",
        headers={"Plaid-Verification": "eyJ.x.y", "Cookie": "a=b"},
    )
    assert client_response.status_code == 200
    [(_, _, args, _)] = rpc.domain_calls()
    assert args[0]["body"] == body.decode()
    assert args[0]["headers"] == {
        "Plaid-Verification": "eyJ.x.y",
        "Content-Type": "application/json",
    }

    rpc.replies[("aggregation", "handle_plaid_webhook")] = Unauthenticated("not signed")
    refused = setup.call("POST", "/webhooks/plaid", data=body, content_type="application/json")
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
