"""authenticate: same error for unknown e-mail and wrong password, lockout and unlock via the
clock, long multibyte passwords, rehash when the cost rises, audit rows for every outcome."""

import pytest

from common.errors import Locked, Unauthenticated, ValidationFailed

pytestmark = pytest.mark.integration

CTX = {"ip": "198.51.100.4", "user_agent": "pytest"}


def _login(rpc, email, password, **extra):
    return rpc.authenticate({"email": email, "password": password, **extra}, CTX)


def test_success_without_mfa(rpc, register, clock, db):
    profile, payload = register()
    result = _login(rpc, payload["email"].upper(), payload["password"])
    assert result == {
        "user_id": profile["id"],
        "amr": ["pwd"],
        "auth_time": int(clock.ts()),
        "mfa_enabled": False,
        "sessions_valid_after": None,
    }
    rows = db(
        "SELECT event, outcome, ip, details FROM audit_log WHERE user_id = :u ORDER BY id",
        u=profile["id"],
    )
    assert [(r["event"], r["outcome"]) for r in rows] == [
        ("account.register", "success"),
        ("login", "success"),
    ]
    assert rows[1]["ip"] == CTX["ip"] and rows[1]["details"]["amr"] == "pwd"


def test_unknown_email_and_wrong_password_look_identical(rpc, register, db):
    profile, payload = register()
    errors = []
    for email, password in (
        (payload["email"], "wrong password here"),
        ("nobody.at.all@example.org", "wrong password here"),
    ):
        with pytest.raises(Unauthenticated) as caught:
            _login(rpc, email, password)
        errors.append((type(caught.value), caught.value.detail, caught.value.extra))
    assert errors[0] == errors[1]
    assert errors[0][1] == "Invalid e-mail or password"
    reasons = db(
        "SELECT details->>'reason' AS r FROM audit_log WHERE event = 'login' AND outcome = "
        "'failure' ORDER BY id DESC LIMIT 2"
    )
    assert {r["r"] for r in reasons} == {"bad_password", "unknown_email"}


def test_ten_failures_lock_for_thirty_minutes(rpc, register, clock, db):
    profile, payload = register()
    for _ in range(9):
        with pytest.raises(Unauthenticated):
            _login(rpc, payload["email"], "not my password at all")
    # a success before the tenth failure resets the count
    _login(rpc, payload["email"], payload["password"])
    for _ in range(10):
        with pytest.raises(Unauthenticated):
            _login(rpc, payload["email"], "not my password at all")
    with pytest.raises(Locked) as caught:
        _login(rpc, payload["email"], payload["password"])
    assert int(caught.value.extra["retry_after"]) == 30 * 60  # nameko stringifies extras
    clock.advance(29 * 60 + 59)
    with pytest.raises(Locked) as caught:
        _login(rpc, payload["email"], payload["password"])
    assert int(caught.value.extra["retry_after"]) == 1
    clock.advance(1)
    assert _login(rpc, payload["email"], payload["password"])["user_id"] == profile["id"]
    locked = db(
        "SELECT count(*) AS n FROM audit_log WHERE user_id = :u AND event = 'account.locked'",
        u=profile["id"],
    )
    assert locked[0]["n"] == 1
    denied = db(
        "SELECT count(*) AS n FROM audit_log WHERE user_id = :u AND outcome = 'denied'",
        u=profile["id"],
    )
    assert denied[0]["n"] == 2


def test_lock_sends_a_security_event(rpc, register, outbox):
    profile, payload = register()
    for _ in range(10):
        with pytest.raises(Unauthenticated):
            _login(rpc, payload["email"], "not my password at all")
    assert outbox("security_event", profile["id"])[-1]["data"]["event"] == "account_locked"


def test_hundred_character_multibyte_password(rpc, register):
    password = "Ünïcødé-пароль-密码-🙂" * 5 + "ÿ€✓☃…"
    assert len(password) == 100
    profile, payload = register(password=password)
    assert _login(rpc, payload["email"], password)["user_id"] == profile["id"]
    with pytest.raises(Unauthenticated):
        _login(rpc, payload["email"], password[:-1] + "!")


def test_rehash_on_login_when_the_cost_was_raised(rpc, register, db, monkeypatch):
    profile, payload = register()
    before = db("SELECT password_hash FROM users WHERE id = :i", i=profile["id"])[0]
    assert before["password_hash"].startswith("$2b$04$")
    monkeypatch.setenv("NESTEGG_BCRYPT_COST", "5")
    _login(rpc, payload["email"], payload["password"])
    after = db("SELECT password_hash FROM users WHERE id = :i", i=profile["id"])[0]
    assert after["password_hash"].startswith("$2b$05$")
    assert _login(rpc, payload["email"], payload["password"])["user_id"] == profile["id"]


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "a@example.org"},
        {"password": "x" * 12},
        {"email": "a@example.org", "password": "x" * 12, "totp": "123456", "recovery_code": "a"},
        {"mfa_challenge": "c" * 43},
        {"mfa_challenge": "c" * 43, "email": "a@example.org", "totp": "123456"},
        {"email": "a@example.org", "password": "x" * 12, "remember_me": True},
    ],
)
def test_malformed_authenticate_payloads(rpc, payload):
    with pytest.raises(ValidationFailed):
        rpc.authenticate(payload, CTX)


def test_context_is_validated(rpc, register):
    _, payload = register()
    with pytest.raises(ValidationFailed):
        rpc.authenticate(
            {"email": payload["email"], "password": payload["password"]}, {"ip": "not an ip"}
        )
    with pytest.raises(ValidationFailed):
        rpc.authenticate(
            {"email": payload["email"], "password": payload["password"]},
            {"ip": "192.0.2.1", "user_id": "spoofed"},
        )
