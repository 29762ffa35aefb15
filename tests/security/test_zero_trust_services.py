"""Zero Trust inside the services (issue #3): every user-facing RPC receives the caller's access
token as ``principal`` and verifies it itself; no service takes a user id from the payload.

The RPC inventory comes from the service classes (every nameko ``@rpc`` entrypoint), so a new
RPC is checked the day it lands: it is either user-facing (``common.rpc.boundary`` with
``authenticated=True`` and ``principal`` as its first argument, a request schema without a user
id that refuses unknown fields) or on :data:`NOT_USER_FACING` with the reason. The running
services (users, aggregation, transactions, portfolio) then refuse every user-facing RPC called
with a forged, a garbage or no token, and refuse a ``user_id`` slipped into a payload.
"""

from __future__ import annotations

import importlib
import inspect
import time

import jwt
import marshmallow
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from common.config import SERVICES
from common.errors import Unauthenticated, ValidationFailed
from common.stack import SERVICE_CLASSES
from gateway.auth.scopes import SCOPES

# service -> RPC -> why it takes no user token. Keep it short and deliberate.
NOT_USER_FACING: dict[str, dict[str, str]] = {
    "*": {
        "health": "liveness probe, returns no user data",
        "ping": "round-trip probe, returns no user data",
    },
    "users": {
        "register": "sign-up: there is no token before the account exists",
        "authenticate": "sign-in: establishes the identity the token will carry",
        "request_password_reset": "the user cannot sign in; answers the same for everyone",
        "reset_password": "authorised by the single-use reset token in the payload",
        "record_security_event": "the gateway's audit writer (refusals happen without a user)",
        "get_oauth_client": "the gateway's OAuth server reads client registrations",
        "verify_client_secret": "client authentication at /oauth/token",
        "create_oauth_client": "ops CLI (`nestegg clients add`)",
    },
    "aggregation": {
        "handle_plaid_webhook": "Plaid calls it; its ES256 Plaid-Verification JWT is checked",
        "metrics": "operational counters, no user data",
    },
}
RUNNING = ("users", "aggregation", "transactions", "portfolio")  # started by domain_services
USERISH = ("user_id", "userid", "owner_id", "user", "owner", "sub", "subject")


def _service_class(service: str):
    module, name = SERVICE_CLASSES[service].split(":")
    return getattr(importlib.import_module(module), name)


def _rpcs(service: str) -> dict:
    cls = _service_class(service)
    found = {}
    for name in dir(cls):
        fn = getattr(cls, name, None)
        entrypoints = getattr(fn, "nameko_entrypoints", None) or ()
        if any(type(e).__name__ == "Rpc" for e in entrypoints):
            found[name] = fn
    return found


def _internal(service: str) -> dict[str, str]:
    return {**NOT_USER_FACING["*"], **NOT_USER_FACING.get(service, {})}


def _user_facing(service: str) -> dict:
    return {n: f for n, f in _rpcs(service).items() if n not in _internal(service)}


def _request_schema(fn):
    return inspect.getclosurevars(fn).nonlocals.get("request")


def test_every_rpc_is_user_facing_with_a_principal_or_listed_as_internal():
    problems = []
    for service in SERVICES:
        rpcs = _rpcs(service)
        stale = sorted(set(NOT_USER_FACING.get(service, {})) - set(rpcs))
        problems += [f"{service}.{n}: listed as internal but does not exist" for n in stale]
        for name, fn in _user_facing(service).items():
            guard = getattr(fn, "boundary", None)
            if not guard or not guard["authenticated"]:
                problems.append(f"{service}.{name}: no authenticated common.rpc.boundary")
                continue
            params = list(inspect.signature(inspect.unwrap(fn)).parameters)
            if params[1:2] != ["principal"]:
                problems.append(f"{service}.{name}: first argument is {params[1:2]}")
    assert not problems, problems
    # the inventory is real: the services have user-facing RPCs and they were all seen
    counts = {s: len(_user_facing(s)) for s in RUNNING}
    assert all(n >= 5 for n in counts.values()), counts


def test_user_facing_request_schemas_take_no_user_id_and_refuse_unknown_fields():
    problems = []
    for service in SERVICES:
        for name, fn in _user_facing(service).items():
            schema = _request_schema(fn)
            if schema is None:
                continue
            if schema.unknown != marshmallow.RAISE:
                problems.append(f"{service}.{name}: {type(schema).__name__} accepts unknown keys")
            ids = [f for f in schema.fields if f.lower() in USERISH]
            if ids:
                problems.append(f"{service}.{name}: {type(schema).__name__} has {ids}")
    assert not problems, problems


@pytest.fixture
def user_token(domain_services, gw, signing_issuer):
    """A registered user's token with every scope and a fresh second factor (so scope and
    step-up checks pass and only the principal or the payload can be refused)."""
    _, profile = gw.register()
    return profile["id"], signing_issuer.issue(
        profile["id"],
        scope=" ".join(SCOPES),
        amr=("pwd", "otp"),
        auth_time=int(time.time()),
        client_id="nestegg-cli",
        mfa=True,
    ).token


def _forged(token: str) -> str:
    """The same claims signed with a key the services never saw."""
    claims = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)
    return jwt.encode(
        claims,
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": header["kid"]},
    )


def test_running_services_refuse_every_user_facing_rpc_without_a_valid_principal(
    user_token, rpc_pool
):
    _, token = user_token
    forged = _forged(token)
    accepted = []
    calls = 0
    for service in RUNNING:
        for name in sorted(_user_facing(service)):
            for bad in (forged, "not-a-jwt", None):
                calls += 1
                try:
                    rpc_pool.call(service, name, bad, {}, timeout=15.0)
                except Unauthenticated:
                    continue
                except Exception as exc:  # noqa: BLE001 - report every wrong answer at once
                    accepted.append((service, name, "forged" if bad else bad, repr(exc)[:120]))
                else:
                    accepted.append((service, name, "forged" if bad else bad, "answered"))
    assert not accepted, accepted
    assert calls >= 3 * 40


def test_a_user_id_in_the_payload_is_refused_not_obeyed(user_token, rpc_pool):
    user_id, token = user_token
    checked, wrong = 0, []
    for service in RUNNING:
        for name, fn in sorted(_user_facing(service).items()):
            if _request_schema(fn) is None:
                continue
            checked += 1
            try:
                rpc_pool.call(service, name, token, {"user_id": user_id}, timeout=15.0)
            except ValidationFailed as exc:
                if "user_id" not in str(exc.extra):
                    wrong.append((service, name, exc.extra))
            except Exception as exc:  # noqa: BLE001
                wrong.append((service, name, repr(exc)[:160]))
            else:
                wrong.append((service, name, "accepted a user_id"))
    assert not wrong, wrong
    assert checked >= 20
