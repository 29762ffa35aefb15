"""Fixtures for the identity-layer unit tests: an app with an in-memory auth store, a fresh
ES256 issuer, a fake users service and a test blueprint of guarded routes."""

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import g
from flask.views import MethodView

from common.config import Settings
from gateway.auth import require_auth
from gateway.auth.config import AuthConfig
from gateway.auth.storage import AuthStore, MemoryBackend
from gateway.auth.tokens import AccessTokenIssuer
from gateway.config import GatewayConfig
from gateway.openapi import ApiBlueprint

SETTINGS = Settings()


def make_issuer():
    return AccessTokenIssuer(
        ec.generate_private_key(ec.SECP256R1()),
        kid="test-kid",
        issuer=SETTINGS.jwt_issuer,
        audience=SETTINGS.jwt_audience,
    )


def guarded_blueprint():
    blp = ApiBlueprint("guarded", __name__)

    @blp.route("/t/read")
    class Read(MethodView):
        @require_auth("transactions:read")
        def get(self):
            return {"user": g.principal.user_id, "token_len": len(g.access_token)}

    @blp.route("/t/write")
    class Write(MethodView):
        @require_auth("transactions:write")
        def post(self):
            return {"ok": True}

    @blp.route("/t/critical")
    class Critical(MethodView):
        @require_auth("profile:write", step_up=True)
        def post(self):
            return {"ok": True}

    return blp


class UsersFake:
    """The users RPCs the bearer guard needs, with per-user session state."""

    def __init__(self):
        self.state = {}
        self.error = None
        self.calls = 0

    def get_session_state(self, token, timeout=None):
        self.calls += 1
        if self.error is not None:
            raise self.error
        from jwt import decode

        sub = decode(token, options={"verify_signature": False})["sub"]
        return self.state.get(sub, {"sessions_valid_after": None, "deleted": False})


@pytest.fixture
def users_fake():
    return UsersFake()


@pytest.fixture
def auth_app(rpc_with, redis_with, users_fake):
    from gateway.app import create_app

    rpc = rpc_with(
        {
            ("users", "get_session_state"): users_fake.get_session_state,
            ("users", "record_security_event"): {"status": "recorded"},
        }
    )
    issuer = make_issuer()
    app = create_app(
        SETTINGS,
        rpc,
        redis=redis_with(True),
        gateway_config=GatewayConfig(ready_timeout=0.5),
        auth_store=AuthStore(MemoryBackend()),
        auth_config=AuthConfig(ratelimit_storage_uri="memory://"),
        token_issuer=issuer,
    )
    app.extensions["nestegg.api"].register_blueprint(guarded_blueprint())
    app.testing = True
    app.rpc_fake = rpc
    return app


@pytest.fixture
def issue(auth_app):
    issuer = auth_app.extensions["nestegg.auth"].issuer

    def sign(
        user_id="u-1",
        *,
        scope="transactions:read transactions:write profile:read profile:write",
        amr=("pwd",),
        auth_time=None,
        mfa=False,
        now=None,
    ):
        return issuer.issue(
            user_id,
            scope=scope,
            amr=amr,
            auth_time=auth_time if auth_time is not None else int(now or time.time()),
            client_id="nestegg-cli",
            mfa=mfa,
            now=now,
        )

    return sign
