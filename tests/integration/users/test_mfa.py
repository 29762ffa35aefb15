"""TOTP enrolment, sign-in challenges, replay protection (also under 20 concurrent submissions),
five-wrong-codes burn, recovery codes single use, disabling with step-up."""

import base64
import re

import eventlet
import pytest
from sqlalchemy.orm import sessionmaker

from common.errors import BadRequest, Locked, StepUpRequired, Unauthenticated, ValidationFailed
from users import totp
from users.errors import MfaCodeRequired

pytestmark = pytest.mark.integration

CTX = {"ip": "198.51.100.9", "user_agent": "pytest"}


def _password_step(rpc, payload):
    with pytest.raises(MfaCodeRequired) as caught:
        rpc.authenticate({"email": payload["email"], "password": payload["password"]}, CTX)
    return caught.value


def test_enrolment_gives_uri_qr_and_an_encrypted_pending_seed(rpc, register, tokens, db):
    profile, _ = register()
    result = rpc.mfa_totp_enroll(tokens(profile["id"]))
    assert len(result["secret"]) == 32
    assert result["otpauth_uri"].startswith("otpauth://totp/Nestegg:")
    assert f"secret={result['secret']}" in result["otpauth_uri"]
    assert base64.b64decode(result["qr_png_base64"]).startswith(b"\x89PNG")
    row = db("SELECT * FROM users WHERE id = :i", i=profile["id"])[0]
    assert row["totp_pending_secret"] and result["secret"] not in row["totp_pending_secret"]
    assert row["mfa_enabled"] is False and row["totp_secret"] is None
    # a second enrolment replaces the pending seed
    again = rpc.mfa_totp_enroll(tokens(profile["id"]))
    assert again["secret"] != result["secret"]


def test_confirm_needs_a_valid_code_then_issues_recovery_codes(
    rpc, register, tokens, clock, db, outbox
):
    profile, _ = register()
    token = tokens(profile["id"])
    with pytest.raises(BadRequest):
        rpc.mfa_totp_confirm(token, {"code": "123456"})
    secret = rpc.mfa_totp_enroll(token)["secret"]
    with pytest.raises(ValidationFailed):
        rpc.mfa_totp_confirm(token, {"code": totp.code_at(secret, clock.ts() - 90)})
    codes = rpc.mfa_totp_confirm(token, {"code": totp.code_at(secret, clock.ts())})
    assert len(codes["recovery_codes"]) == 10
    assert rpc.get_profile(token)["mfa_enabled"] is True
    row = db("SELECT * FROM users WHERE id = :i", i=profile["id"])[0]
    raw = " ".join(str(v) for v in row.values())
    assert secret not in raw and row["totp_pending_secret"] is None
    stored = db("SELECT code_hmac FROM recovery_codes WHERE user_id = :u", u=profile["id"])
    assert len(stored) == 10
    plain = {c.replace("-", "") for c in codes["recovery_codes"]}
    assert all(r["code_hmac"] not in plain and len(r["code_hmac"]) == 64 for r in stored)
    assert outbox("mfa_changed", profile["id"])[-1]["data"]["mfa_enabled"] is True


def test_sign_in_with_a_challenge_and_totp(rpc, enrolled, clock):
    profile, payload, secret, _ = enrolled()
    challenge = _password_step(rpc, payload)
    assert challenge.extra["reason"] == "missing"
    assert int(challenge.extra["attempts_left"]) == 5
    result = rpc.authenticate(
        {
            "mfa_challenge": challenge.extra["mfa_challenge"],
            "totp": totp.code_at(secret, clock.ts()),
        },
        CTX,
    )
    assert result["amr"] == ["pwd", "otp"] and result["mfa_enabled"] is True
    # the challenge is single use
    with pytest.raises(Unauthenticated):
        rpc.authenticate({"mfa_challenge": challenge.extra["mfa_challenge"], "totp": "000000"}, CTX)


def test_one_step_sign_in_and_replay_refused(rpc, enrolled, clock):
    profile, payload, secret, _ = enrolled()
    code = totp.code_at(secret, clock.ts())
    login = {"email": payload["email"], "password": payload["password"], "totp": code}
    assert rpc.authenticate(login, CTX)["amr"] == ["pwd", "otp"]
    with pytest.raises(MfaCodeRequired) as caught:
        rpc.authenticate(login, CTX)
    assert caught.value.extra["reason"] == "invalid"
    assert int(caught.value.extra["attempts_left"]) == 4
    # a code of an earlier step (still inside the window) is refused after a later one
    clock.advance(30)
    newer = totp.code_at(secret, clock.ts())
    assert rpc.authenticate({**login, "totp": newer}, CTX)["amr"] == ["pwd", "otp"]
    with pytest.raises(MfaCodeRequired):
        rpc.authenticate({**login, "totp": code}, CTX)


def test_codes_expire_after_the_window(rpc, enrolled, clock):
    _, payload, secret, _ = enrolled()
    code = totp.code_at(secret, clock.ts())
    clock.advance(61)
    challenge = _password_step(rpc, payload)
    with pytest.raises(MfaCodeRequired):
        rpc.authenticate({"mfa_challenge": challenge.extra["mfa_challenge"], "totp": code}, CTX)


def test_five_wrong_codes_burn_the_attempt_and_count_toward_lockout(rpc, enrolled, clock, db):
    profile, payload, secret, _ = enrolled()
    challenge = _password_step(rpc, payload).extra["mfa_challenge"]
    for left in (4, 3, 2, 1):
        with pytest.raises(MfaCodeRequired) as caught:
            rpc.authenticate({"mfa_challenge": challenge, "totp": "000000"}, CTX)
        assert int(caught.value.extra["attempts_left"]) == left
    with pytest.raises(Unauthenticated) as caught:
        rpc.authenticate({"mfa_challenge": challenge, "totp": "000000"}, CTX)
    assert caught.value.extra["reason"] == "mfa_attempts_exhausted"
    with pytest.raises(Unauthenticated):
        rpc.authenticate(
            {"mfa_challenge": challenge, "totp": totp.code_at(secret, clock.ts())}, CTX
        )
    row = db("SELECT failed_logins FROM users WHERE id = :i", i=profile["id"])[0]
    assert row["failed_logins"] == 5


def test_challenges_expire(rpc, enrolled, clock):
    _, payload, secret, _ = enrolled()
    challenge = _password_step(rpc, payload).extra["mfa_challenge"]
    clock.advance(5 * 60)
    with pytest.raises(Unauthenticated):
        rpc.authenticate(
            {"mfa_challenge": challenge, "totp": totp.code_at(secret, clock.ts())}, CTX
        )


def test_recovery_codes_are_single_use(rpc, enrolled, tokens, outbox):
    profile, payload, _, codes = enrolled()
    challenge = _password_step(rpc, payload).extra["mfa_challenge"]
    result = rpc.authenticate({"mfa_challenge": challenge, "recovery_code": codes[0].upper()}, CTX)
    assert result["amr"] == ["pwd", "recovery"]
    challenge = _password_step(rpc, payload).extra["mfa_challenge"]
    with pytest.raises(MfaCodeRequired):
        rpc.authenticate({"mfa_challenge": challenge, "recovery_code": codes[0]}, CTX)
    assert outbox("security_event", profile["id"])[-1]["data"]["event"] == "recovery_code_used"
    exported = rpc.export_account(tokens(profile["id"], amr=("pwd", "recovery")))
    assert exported["recovery_codes_remaining"] == 9


def test_twenty_concurrent_submissions_of_one_code_succeed_once(
    rpc, enrolled, clock, gateway_proxies
):
    _, payload, secret, _ = enrolled()
    login = {
        "email": payload["email"],
        "password": payload["password"],
        "totp": totp.code_at(secret, clock.ts()),
    }
    proxies = gateway_proxies(20)
    start = eventlet.event.Event()

    def submit(proxy):
        start.wait()
        try:
            return proxy.authenticate(login, CTX)["amr"]
        except (MfaCodeRequired, Unauthenticated, Locked) as exc:
            return type(exc).__name__

    pool = eventlet.GreenPool(20)
    threads = [pool.spawn(submit, p) for p in proxies]
    eventlet.sleep(0.1)
    start.send(True)
    outcomes = [t.wait() for t in threads]
    assert outcomes.count(["pwd", "otp"]) == 1, outcomes
    # the 19 replays are failures: after 10 of them the account locks (PCI 8.3.4)
    assert all(o in (["pwd", "otp"], "MfaCodeRequired", "Locked") for o in outcomes), outcomes


def test_replay_guard_is_atomic_in_postgres(enrolled, users_engine, clock):
    """20 green threads, each with its own connection and transaction, race one step."""
    from users import login

    profile, *_ = enrolled()
    step = totp.time_step(clock.ts()) + 1
    factory = sessionmaker(bind=users_engine)
    start = eventlet.event.Event()

    def race():
        start.wait()
        with factory() as session, session.begin():
            won = login.consume_totp_step(session, profile["id"], step)
            eventlet.sleep(0.01)  # hold the row lock a moment so the others queue up
            return won

    pool = eventlet.GreenPool(20)
    threads = [pool.spawn(race) for _ in range(20)]
    eventlet.sleep(0.05)
    start.send(True)
    assert sorted(t.wait() for t in threads) == [False] * 19 + [True]


def test_disable_needs_step_up_and_a_fresh_code(rpc, enrolled, tokens, clock, outbox):
    profile, payload, secret, _ = enrolled()
    code = totp.code_at(secret, clock.ts())
    with pytest.raises(StepUpRequired):
        rpc.mfa_disable(tokens(profile["id"]), {"code": code})
    stale = tokens(profile["id"], amr=("pwd", "otp"), auth_time=clock.ts() - 3600)
    with pytest.raises(StepUpRequired):
        rpc.mfa_disable(stale, {"code": code})
    stepped = tokens(profile["id"], amr=("pwd", "otp"))
    with pytest.raises(ValidationFailed):
        rpc.mfa_disable(stepped, {"code": "000000"})
    assert rpc.mfa_disable(stepped, {"code": code}) == {"mfa_enabled": False}
    assert rpc.get_profile(stepped)["mfa_enabled"] is False
    assert outbox("mfa_changed", profile["id"])[-1]["data"]["mfa_enabled"] is False
    result = rpc.authenticate({"email": payload["email"], "password": payload["password"]}, CTX)
    assert result["amr"] == ["pwd"]


def test_re_enrolment_while_enabled_needs_step_up(rpc, enrolled, tokens, clock):
    profile, payload, old_secret, old_codes = enrolled()
    with pytest.raises(StepUpRequired):
        rpc.mfa_totp_enroll(tokens(profile["id"]))
    stepped = tokens(profile["id"], amr=("pwd", "otp"))
    new_secret = rpc.mfa_totp_enroll(stepped)["secret"]
    new_codes = rpc.mfa_totp_confirm(stepped, {"code": totp.code_at(new_secret, clock.ts())})
    assert set(new_codes["recovery_codes"]).isdisjoint(old_codes)
    clock.advance(30)
    login = {"email": payload["email"], "password": payload["password"]}
    with pytest.raises(MfaCodeRequired):
        rpc.authenticate({**login, "totp": totp.code_at(old_secret, clock.ts())}, CTX)
    with pytest.raises(MfaCodeRequired):
        rpc.authenticate({**login, "recovery_code": old_codes[1]}, CTX)
    ok = rpc.authenticate({**login, "totp": totp.code_at(new_secret, clock.ts())}, CTX)
    assert ok["amr"] == ["pwd", "otp"]


def test_mfa_audit_trail(rpc, enrolled, tokens, db):
    profile, *_ = enrolled()
    events = rpc.security_events(tokens(profile["id"]), {"limit": 10})["events"]
    names = [e["event"] for e in events]
    assert "mfa.confirm" in names and "mfa.enroll" in names
    assert all(re.fullmatch(r"\d+", e["id"]) for e in events)
