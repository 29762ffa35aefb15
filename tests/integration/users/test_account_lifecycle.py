"""Risk profile, export, deletion (crypto-shred), security events, gateway-recorded events,
the append-only audit log, and the OAuth client registry."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from common.errors import NotFound, StepUpRequired, Unauthenticated, ValidationFailed

pytestmark = pytest.mark.integration

CTX = {"ip": "192.0.2.20", "user_agent": "pytest"}
ANSWERS = {
    "horizon_years": 25,
    "loss_tolerance": "hold",
    "income_stability": "stable",
    "experience": "some",
    "age": 40,
}


def test_risk_profile_round_trip(rpc, register, tokens, outbox, db):
    profile, _ = register()
    token = tokens(profile["id"])
    assert rpc.get_risk_profile(token) is None
    result = rpc.set_risk_profile(token, ANSWERS)
    assert (result["capacity"], result["tolerance"], result["risk_score"]) == (9, 7, 7)
    assert result["answers"] == ANSWERS
    assert rpc.get_risk_profile(token) == result
    assert outbox("risk_profile_updated", profile["id"])[-1]["data"] == {
        "user_id": profile["id"],
        "risk_score": 7,
        "horizon_years": 25,
    }
    raw = db("SELECT answers FROM risk_profiles WHERE user_id = :u", u=profile["id"])[0]
    assert "hold" not in raw["answers"]
    updated = rpc.set_risk_profile(token, {**ANSWERS, "loss_tolerance": "sell_all"})
    assert updated["risk_score"] == 2


@pytest.mark.parametrize(
    "bad",
    [
        {**ANSWERS, "horizon_years": 61},
        {**ANSWERS, "horizon_years": "10"},
        {**ANSWERS, "loss_tolerance": "panic"},
        {**ANSWERS, "age": 10},
        {**ANSWERS, "risk_score": 10},
        {k: v for k, v in ANSWERS.items() if k != "experience"},
    ],
)
def test_risk_profile_bad_answers(rpc, register, tokens, bad):
    profile, _ = register()
    with pytest.raises(ValidationFailed):
        rpc.set_risk_profile(tokens(profile["id"]), bad)


def test_export_needs_step_up_and_holds_everything(rpc, enrolled, tokens):
    profile, payload, _, _ = enrolled(ssn="123-45-6789", phone="+15550100003")
    with pytest.raises(StepUpRequired):
        rpc.export_account(tokens(profile["id"]))
    stepped = tokens(profile["id"], amr=("pwd", "otp"))
    rpc.set_risk_profile(stepped, ANSWERS)
    exported = rpc.export_account(stepped)
    assert exported["profile"]["email"] == payload["email"]
    assert exported["profile"]["ssn_last4"] == "6789"
    assert "123456789" not in str(exported) and "123-45-6789" not in str(exported)
    assert exported["risk_profile"]["risk_score"] == 7
    assert exported["mfa_enabled"] is True and exported["recovery_codes_remaining"] == 10
    names = {e["event"] for e in exported["security_events"]}
    assert {"account.register", "mfa.confirm", "risk_profile.update"} <= names
    events = rpc.security_events(stepped, {"limit": 1})["events"]
    assert events[0]["event"] == "account.export"


def test_delete_account_crypto_shreds(rpc, enrolled, tokens, db, outbox, register):
    profile, payload, _, _ = enrolled(ssn="123-45-6789")
    with pytest.raises(StepUpRequired):
        rpc.delete_account(tokens(profile["id"]))
    stepped = tokens(profile["id"], amr=("pwd", "otp"))
    rpc.set_risk_profile(stepped, ANSWERS)
    assert rpc.delete_account(stepped) == {"status": "deleted"}
    row = db("SELECT * FROM users WHERE id = :i", i=profile["id"])[0]
    for column in (
        "email",
        "name",
        "phone",
        "date_of_birth",
        "address",
        "ssn",
        "totp_secret",
        "totp_pending_secret",
        "password_hash",
    ):
        assert row[column] is None, column
    assert row["email_bidx"] == f"deleted:{profile['id']}" and row["deleted_at"] is not None
    for table in ("recovery_codes", "risk_profiles", "password_resets", "login_challenges"):
        assert (
            db(f"SELECT count(*) AS n FROM {table} WHERE user_id = :u", u=profile["id"])[0]["n"]
            == 0
        )
    assert outbox("user_deleted", profile["id"])[-1]["data"] == {"user_id": profile["id"]}
    kept = db("SELECT event FROM audit_log WHERE user_id = :u ORDER BY id", u=profile["id"])
    assert kept[-1]["event"] == "account.delete" and len(kept) >= 3
    assert rpc.get_session_state(stepped)["deleted"] is True
    with pytest.raises(NotFound):
        rpc.get_profile(stepped)
    with pytest.raises(Unauthenticated):
        rpc.authenticate({"email": payload["email"], "password": payload["password"]}, CTX)
    again, _ = register(email=payload["email"])  # the address is free again
    assert again["id"] != profile["id"]


def test_security_events_are_the_callers_own_and_paginate(rpc, register, tokens):
    alice, alice_payload = register()
    bob, _ = register()
    for _ in range(3):
        rpc.authenticate(
            {"email": alice_payload["email"], "password": alice_payload["password"]}, CTX
        )
    page = rpc.security_events(tokens(alice["id"]), {"limit": 2})
    assert len(page["events"]) == 2 and page["next_before"]
    rest = rpc.security_events(
        tokens(alice["id"]), {"limit": 50, "before": int(page["next_before"])}
    )
    assert [e["event"] for e in rest["events"]] == ["login", "account.register"]
    assert rest["next_before"] is None
    bob_events = rpc.security_events(tokens(bob["id"]), {})["events"]
    assert [e["event"] for e in bob_events] == ["account.register"]
    with pytest.raises(ValidationFailed):
        rpc.security_events(tokens(alice["id"]), {"limit": 100_000})
    with pytest.raises(ValidationFailed):
        rpc.security_events(tokens(alice["id"]), {"user_id": bob["id"]})


def test_gateway_records_security_events_sanitised(rpc, register, tokens, db):
    profile, _ = register()
    assert rpc.record_security_event(
        {
            "user_id": profile["id"],
            "event": "token.issue",
            "outcome": "success",
            "ip": "192.0.2.33",
            "client_id": "nestegg-cli",
            "details": {"grant_type": "authorization_code", "refresh_token": "rt-secret-value"},
        }
    ) == {"status": "recorded"}
    row = db(
        "SELECT actor, details, client_id FROM audit_log WHERE user_id = :u AND event = 'token.issue'",
        u=profile["id"],
    )[0]
    assert row["actor"] == "gateway" and row["client_id"] == "nestegg-cli"
    assert row["details"] == {"grant_type": "authorization_code", "refresh_token": "[redacted]"}
    for bad in (
        {"event": "Token Issue", "outcome": "success"},
        {"event": "token.issue", "outcome": "maybe"},
        {"event": "token.issue", "outcome": "success", "ip": "nope"},
        {"event": "token.issue", "outcome": "success", "actor": "admin"},
        {"event": "token.issue", "outcome": "success", "details": {f"k{i}": i for i in range(30)}},
    ):
        with pytest.raises(ValidationFailed):
            rpc.record_security_event(bad)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET outcome = 'success'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "DROP TABLE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    ],
)
def test_the_service_role_cannot_change_the_audit_log(users_engine, rpc, register, statement):
    register()  # at least one row exists
    with pytest.raises((ProgrammingError, DBAPIError)) as caught, users_engine.begin() as conn:
        conn.execute(text(statement))
    assert "permission denied" in str(caught.value) or "must be owner" in str(caught.value)


def test_the_service_role_can_append_and_read_the_audit_log(users_engine):
    with users_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (actor, event, outcome) VALUES ('test', 'probe', 'success')"
            )
        )
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() >= 1


def test_the_trigger_refuses_even_the_table_owner(settings):
    """Defence in depth: the NOLOGIN owner (via the admin) hits the trigger too."""
    import psycopg2

    from users.provision_hooks import audit_owner_role

    conn = psycopg2.connect(
        settings.pg_admin_dsn.rsplit("/", 1)[0] + f"/{settings.database_name('users')}"
    )
    try:
        with conn.cursor() as cur:
            cur.execute(f'SET ROLE "{audit_owner_role(settings)}"')
            with pytest.raises(psycopg2.Error, match="append-only"):
                cur.execute("DELETE FROM audit_log")
    finally:
        conn.rollback()
        conn.close()


def test_builtin_cli_client(rpc):
    client = rpc.get_oauth_client({"client_id": "nestegg-cli"})
    assert client["public"] is True and client["first_party"] is True
    assert client["redirect_uris"] == ["http://127.0.0.1/callback"]
    assert "profile:read" in client["scopes"]
    assert (
        rpc.verify_client_secret({"client_id": "nestegg-cli", "client_secret": "anything"}) is False
    )
    with pytest.raises(NotFound):
        rpc.get_oauth_client({"client_id": "no-such-client"})


def test_confidential_client_secret_shown_once_and_verified(rpc, db):
    created = rpc.create_oauth_client(
        {
            "name": "Budget widget",
            "redirect_uris": ["https://widget.example.com/cb"],
            "scopes": ["profile:read"],
            "public": False,
        }
    )
    secret = created["client_secret"]
    assert len(secret) >= 43
    stored = db(
        "SELECT secret_hash FROM oauth_clients WHERE client_id = :c", c=created["client_id"]
    )
    assert stored[0]["secret_hash"].startswith("$2b$") and secret not in stored[0]["secret_hash"]
    assert rpc.verify_client_secret({"client_id": created["client_id"], "client_secret": secret})
    assert not rpc.verify_client_secret(
        {"client_id": created["client_id"], "client_secret": secret[:-1] + "x"}
    )
    assert not rpc.verify_client_secret({"client_id": "ghost", "client_secret": secret})
    client = rpc.get_oauth_client({"client_id": created["client_id"]})
    assert client == {
        "client_id": created["client_id"],
        "name": "Budget widget",
        "redirect_uris": ["https://widget.example.com/cb"],
        "scopes": ["profile:read"],
        "public": False,
        "first_party": False,
    }
    public = rpc.create_oauth_client(
        {
            "name": "Phone app",
            "redirect_uris": ["http://[::1]/cb"],
            "scopes": ["openid"],
            "public": True,
        }
    )
    assert public["client_secret"] is None


@pytest.mark.parametrize(
    "bad",
    [
        {"redirect_uris": ["http://evil.example.com/cb"]},
        {"redirect_uris": ["http://localhost/cb"]},
        {"redirect_uris": []},
        {"scopes": ["Profile Read"]},
        {"public": "yes"},
        {"client_id": "chosen-id"},
    ],
)
def test_bad_client_registrations(rpc, bad):
    base = {
        "name": "X",
        "redirect_uris": ["https://x.example.com/cb"],
        "scopes": ["openid"],
        "public": True,
    }
    with pytest.raises(ValidationFailed):
        rpc.create_oauth_client({**base, **bad})
