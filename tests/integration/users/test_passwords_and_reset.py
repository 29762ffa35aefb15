"""change_password (step-up, current password, sessions), password reset (enumeration-safe,
single use, expiry, no sign-in, no MFA bypass, token scrubbed from the outbox)."""

import math
import time

import pytest

from common.errors import BadRequest, StepUpRequired, ValidationFailed
from users import totp
from users.errors import MfaCodeRequired

pytestmark = pytest.mark.integration

CTX = {"ip": "192.0.2.10", "user_agent": "pytest"}
NEW_PASSWORD = "amber lantern drifts slowly"


def _login(rpc, email, password):
    return rpc.authenticate({"email": email, "password": password}, CTX)


def test_change_password(rpc, register, tokens, clock, outbox):
    profile, payload = register()
    plain = tokens(profile["id"])
    change = {"current_password": payload["password"], "new_password": NEW_PASSWORD}
    with pytest.raises(StepUpRequired):
        rpc.change_password(plain, change)
    stepped = tokens(profile["id"], amr=("pwd", "otp"))
    with pytest.raises(ValidationFailed) as caught:
        rpc.change_password(stepped, {**change, "current_password": "not the current one"})
    assert "current_password" in caught.value.extra["errors"]
    with pytest.raises(ValidationFailed) as caught:
        rpc.change_password(stepped, {"new_password": NEW_PASSWORD})
    assert "current_password" in caught.value.extra["errors"]
    with pytest.raises(ValidationFailed) as caught:
        rpc.change_password(stepped, {**change, "new_password": "password12345"})
    assert "new_password" in caught.value.extra["errors"]
    with pytest.raises(ValidationFailed):
        rpc.change_password(stepped, {**change, "new_password": payload["password"]})

    result = rpc.change_password(stepped, {**change, "end_other_sessions": True})
    assert result["sessions_revoked_before"] == math.ceil(clock.ts())
    assert rpc.get_session_state(plain) == {
        "sessions_valid_after": result["sessions_revoked_before"],
        "deleted": False,
    }
    assert outbox("password_changed", profile["id"])[-1]["data"] == {
        "user_id": profile["id"],
        "end_other_sessions": True,
    }
    assert (
        _login(rpc, payload["email"], NEW_PASSWORD)["sessions_valid_after"]
        == (result["sessions_revoked_before"])
    )


def test_change_without_ending_sessions(rpc, register, tokens):
    profile, payload = register()
    stepped = tokens(profile["id"], amr=("pwd", "otp"))
    result = rpc.change_password(
        stepped, {"current_password": payload["password"], "new_password": NEW_PASSWORD}
    )
    assert result["sessions_revoked_before"] is None
    assert rpc.get_session_state(stepped)["sessions_valid_after"] is None


def _reset_token(outbox, user_id):
    return outbox("password_reset_requested", user_id)[-1]["data"]["reset_token"]


def test_reset_request_answers_the_same_for_everyone(rpc, register, db, outbox):
    profile, payload = register()
    known = rpc.request_password_reset({"email": payload["email"]}, CTX)
    unknown = rpc.request_password_reset({"email": "ghost.user@example.org"}, CTX)
    assert known == unknown == {"status": "accepted"}
    token = _reset_token(outbox, profile["id"])
    assert len(token) >= 43
    rows = db("SELECT token_hash FROM password_resets WHERE user_id = :u", u=profile["id"])
    assert len(rows) == 1 and rows[0]["token_hash"] != token


def test_reset_is_single_use_and_does_not_sign_in(rpc, register, outbox):
    profile, payload = register()
    rpc.request_password_reset({"email": payload["email"]}, CTX)
    token = _reset_token(outbox, profile["id"])
    with pytest.raises(ValidationFailed):  # a weak password does not spend the token
        rpc.reset_password({"token": token, "new_password": "password1234"}, CTX)
    assert rpc.reset_password({"token": token, "new_password": NEW_PASSWORD}, CTX) == {
        "status": "password_changed"
    }
    with pytest.raises(BadRequest):
        rpc.reset_password({"token": token, "new_password": "another good passphrase"}, CTX)
    assert _login(rpc, payload["email"], NEW_PASSWORD)["user_id"] == profile["id"]


def test_reset_tokens_expire_and_a_new_request_voids_the_old(rpc, register, outbox, clock):
    profile, payload = register()
    rpc.request_password_reset({"email": payload["email"]}, CTX)
    first = _reset_token(outbox, profile["id"])
    rpc.request_password_reset({"email": payload["email"]}, CTX)
    second = _reset_token(outbox, profile["id"])
    assert first != second
    with pytest.raises(BadRequest):
        rpc.reset_password({"token": first, "new_password": NEW_PASSWORD}, CTX)
    clock.advance(30 * 60)
    with pytest.raises(BadRequest):
        rpc.reset_password({"token": second, "new_password": NEW_PASSWORD}, CTX)
    with pytest.raises(BadRequest):
        rpc.reset_password({"token": "x" * 43, "new_password": NEW_PASSWORD}, CTX)


def test_reset_keeps_mfa_and_ends_sessions(rpc, enrolled, outbox, tokens, clock):
    profile, payload, secret, _ = enrolled()
    rpc.request_password_reset({"email": payload["email"]}, CTX)
    rpc.reset_password(
        {"token": _reset_token(outbox, profile["id"]), "new_password": NEW_PASSWORD}, CTX
    )
    with pytest.raises(MfaCodeRequired):
        _login(rpc, payload["email"], NEW_PASSWORD)
    state = rpc.get_session_state(tokens(profile["id"]))
    assert state["sessions_valid_after"] >= int(clock.ts())
    ok = rpc.authenticate(
        {
            "email": payload["email"],
            "password": NEW_PASSWORD,
            "totp": totp.code_at(secret, clock.ts()),
        },
        CTX,
    )
    assert ok["amr"] == ["pwd", "otp"]


def test_reset_event_reaches_the_broker_then_leaves_the_outbox(
    rpc, register, db, outbox, admin_amqp_uri
):
    from kombu import Connection, Exchange, Queue

    profile, payload = register()
    exchange = Exchange("users.events", type="topic", passive=True)
    with Connection(admin_amqp_uri) as conn:
        queue = Queue(
            f"test-reset-{profile['id']}",
            exchange,
            routing_key="password_reset_requested",
            auto_delete=True,
            channel=conn.default_channel,
        )
        queue.declare()
        try:
            rpc.request_password_reset({"email": payload["email"]}, CTX)
            token = _reset_token(outbox, profile["id"])
            mine = None
            deadline = time.monotonic() + 20
            while mine is None and time.monotonic() < deadline:
                message = queue.get(no_ack=True)  # earlier unroutable events may come too
                if message is None:
                    time.sleep(0.1)
                elif message.payload["data"]["user_id"] == profile["id"]:
                    mine = message.payload
            assert mine is not None, "the reset event was not published"
            assert mine["data"] == {"user_id": profile["id"], "reset_token": token}
        finally:
            queue.delete()
    rows = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = db(
            "SELECT payload->'data'->>'reset_token' AS token FROM outbox "
            "WHERE event_type = 'password_reset_requested' AND payload->'data'->>'user_id' = :u",
            u=profile["id"],
        )
        if rows and rows[0]["token"] == "[scrubbed]":
            break
        time.sleep(0.5)
    assert rows and rows[0]["token"] == "[scrubbed]"
