"""MFA enrolment and sign-in (5 wrong codes burn the attempt), step-up, scopes, the identity
routes over the real users service (security reference A6, A10, B1-B8, C4, C7, D7, E2)."""

import jwt
import pytest


def _amr(token):
    return jwt.decode(token, options={"verify_signature": False})["amr"]


def test_enrolled_user_cannot_finish_without_the_second_factor(gw, h):
    email, _ = gw.register()
    t = gw.login(email)
    seed, recovery = gw.enrol_totp(t.access_token)
    assert len(recovery) == 10
    # password only: the page asks for the code; no redirect, no code
    code, _, page = gw.sign_in(email)
    assert code is None and page.status_code == 401
    form = h.parse_form(page.get_data(as_text=True))
    assert "password" not in form.inputs and "totp" in form.inputs
    answer = gw.submit(form, {"totp": h.totp_at(seed)})
    assert answer.status_code == 302 and "code=" in answer.headers["Location"]


def test_totp_in_the_first_form_gives_amr_otp_and_mfa_claim(gw, h):
    email, _ = gw.register()
    seed, _ = gw.enrol_totp(gw.login(email).access_token)
    t = gw.login(email, totp=h.totp_at(seed))
    claims = jwt.decode(t.access_token, options={"verify_signature": False})
    assert claims["amr"] == ["pwd", "otp"] and claims["mfa"] is True


def test_five_wrong_codes_burn_the_sign_in_attempt(gw, h):
    email, _ = gw.register()
    seed, _ = gw.enrol_totp(gw.login(email).access_token)
    _, _, page = gw.sign_in(email, totp="000000" if h.totp_at(seed) != "000000" else "111111")
    assert page.status_code == 401
    form = h.parse_form(page.get_data(as_text=True))
    wrong = "123456" if h.totp_at(seed) != "123456" else "654321"
    for _ in range(3):
        page = gw.submit(form, {"totp": wrong})
        assert page.status_code == 401 and "Start again" not in page.get_data(as_text=True)
    page = gw.submit(form, {"totp": wrong})  # the fifth wrong code
    assert page.status_code == 401 and "Start again" in page.get_data(as_text=True)
    # even the right code cannot finish this attempt now
    late = gw.submit(form, {"totp": h.totp_at(seed)})
    assert late.status_code == 400 and "Location" not in late.headers
    # a new attempt works
    assert gw.login(email, totp=h.totp_at(seed, 1)).access_token


def test_recovery_code_signs_in_once(gw, h):
    email, _ = gw.register()
    _, recovery = gw.enrol_totp(gw.login(email).access_token)
    t = gw.login(email, recovery_code=recovery[0])
    assert _amr(t.access_token) == ["pwd", "recovery"]
    code, _, page = gw.sign_in(email, recovery_code=recovery[0])
    assert code is None and page.status_code == 401


@pytest.mark.usefixtures("domain_services")  # the export gathers every service
def test_step_up_rules(gw, h):
    email, _ = gw.register()
    t = gw.login(email)
    # no MFA at all: 403 mfa_required
    no_mfa = gw.get("/v1/me/export", t.access_token)
    assert no_mfa.status_code == 403 and no_mfa.get_json()["code"] == "mfa_required"
    seed, _ = gw.enrol_totp(t.access_token)
    # the token from before enrolment still says mfa=false: sign in again with the code
    assert gw.get("/v1/me/export", t.access_token).status_code == 403
    # a second factor older than 10 minutes: 401 step_up_required
    claims = jwt.decode(t.access_token, options={"verify_signature": False})
    old = gw.ext.issuer.issue(
        claims["sub"],
        scope=claims["scope"],
        amr=["pwd", "otp"],
        auth_time=claims["auth_time"] - 660,
        client_id="nestegg-cli",
        mfa=True,
    )
    stale = gw.get("/v1/me/export", old.token)
    assert stale.status_code == 401 and stale.get_json()["code"] == "step_up_required"
    assert "prompt=login" in stale.get_json()["detail"]
    assert "insufficient_user_authentication" in stale.headers["WWW-Authenticate"]
    fresh = gw.login(email, totp=h.totp_at(seed), prompt="login")
    export = gw.get("/v1/me/export", fresh.access_token)
    assert export.status_code == 200
    assert export.get_json()["profile"]["email"] == email and export.get_json()["mfa_enabled"]
    # a profile-only token exports the profile and says what it left out
    assert {o["area"] for o in export.get_json()["omitted"]} == {
        "bank_connections",
        "transactions",
        "investments",
    }
    everything = gw.login(
        email,
        totp=h.totp_at(seed, 1),  # the next time step: a code is accepted once
        prompt="login",
        scope="profile accounts:read transactions:read portfolio:read",
    )
    full = gw.get("/v1/me/export", everything.access_token).get_json()
    assert full["omitted"] == []
    assert full["bank_connections"] == {"items": [], "balance_history": []}
    assert full["transactions"]["transactions"] == [] and full["investments"]["goals"] == []


def test_read_only_token_on_write_route_is_403(gw):
    email, _ = gw.register()
    t = gw.login(email, scope="profile:read")
    assert gw.get("/v1/me", t.access_token).status_code == 200
    response = gw.call("PATCH", "/v1/me", t.access_token, json={"name": "New Name"})
    assert response.status_code == 403 and response.get_json()["code"] == "insufficient_scope"
    put = gw.call(
        "PUT",
        "/v1/me/risk-profile",
        t.access_token,
        json={
            "horizon_years": 10,
            "loss_tolerance": "hold",
            "income_stability": "stable",
            "experience": "some",
        },
    )
    assert put.status_code == 403


def test_profile_patch_and_mass_assignment(gw):
    email, profile = gw.register()
    t = gw.login(email)
    ok = gw.call("PATCH", "/v1/me", t.access_token, json={"name": "Alex Renamed"})
    assert ok.status_code == 200 and ok.get_json()["name"] == "Alex Renamed"
    for field, value in (
        ("id", "someone"),
        ("role", "admin"),
        ("mfa_enabled", True),
        ("email", "x@example.org"),
    ):
        response = gw.call("PATCH", "/v1/me", t.access_token, json={field: value})
        assert response.status_code == 422, field
    assert gw.get("/v1/me", t.access_token).get_json()["id"] == profile["id"]


def test_risk_profile_round_trip_and_security_events(gw):
    email, _ = gw.register()
    t = gw.login(email)
    assert gw.get("/v1/me/risk-profile", t.access_token).status_code == 404
    answers = {
        "horizon_years": 25,
        "loss_tolerance": "buy_more",
        "income_stability": "stable",
        "experience": "experienced",
    }
    put = gw.call("PUT", "/v1/me/risk-profile", t.access_token, json=answers)
    assert put.status_code == 200 and 1 <= put.get_json()["risk_score"] <= 10
    got = gw.get("/v1/me/risk-profile", t.access_token).get_json()
    assert got["answers"]["horizon_years"] == 25
    assert (
        gw.call(
            "PUT", "/v1/me/risk-profile", t.access_token, json={**answers, "horizon_years": 99}
        ).status_code
        == 422
    )
    gw.ext.audit.flush()
    events = gw.get("/v1/me/security-events?limit=50", t.access_token)
    assert events.status_code == 200
    names = [e["event"] for e in events.get_json()["events"]]
    assert "login" in names and "token.issue" in names
    assert gw.get("/v1/me/security-events?limit=100000", t.access_token).status_code == 422


def test_password_change_needs_step_up_and_can_end_sessions(gw, h):
    email, _ = gw.register()
    t = gw.login(email)
    seed, _ = gw.enrol_totp(t.access_token)
    other = gw.login(email, totp=h.totp_at(seed))
    refused = gw.call(
        "POST",
        "/v1/me/password",
        t.access_token,
        json={"current_password": h.PASSWORD, "new_password": "copper kettle whistles twice daily"},
    )
    assert refused.status_code in (401, 403)
    assert refused.get_json()["code"] in ("step_up_required", "mfa_required")
    fresh = gw.login(email, totp=h.totp_at(seed, 1))
    changed = gw.call(
        "POST",
        "/v1/me/password",
        fresh.access_token,
        json={
            "current_password": h.PASSWORD,
            "new_password": "copper kettle whistles twice daily",
            "end_other_sessions": True,
        },
    )
    assert changed.status_code == 200, changed.get_json()
    assert gw.get("/v1/me", other.access_token).status_code == 401
    assert gw.refresh(other.refresh_token).status_code == 400


def test_password_reset_answers_the_same_for_unknown_addresses(gw, h):
    email, _ = gw.register()
    known = gw.client.post("/v1/password-reset", json={"email": email})
    unknown = gw.client.post("/v1/password-reset", json={"email": h.unique_email("nobody")})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json() == {"status": "accepted"}
    bad = gw.client.post(
        "/v1/password-reset/confirm",
        json={"token": "x" * 43, "new_password": "copper kettle whistles twice daily"},
    )
    assert bad.status_code == 400


def test_disable_mfa_needs_step_up_and_a_code(gw, h):
    email, _ = gw.register()
    seed, _ = gw.enrol_totp(gw.login(email).access_token)
    fresh = gw.login(email, totp=h.totp_at(seed))
    wrong = gw.call("DELETE", "/v1/me/mfa/totp", fresh.access_token, json={"code": "000000"})
    assert wrong.status_code == 422
    ok = gw.call("DELETE", "/v1/me/mfa/totp", fresh.access_token, json={"code": h.totp_at(seed, 1)})
    assert ok.status_code == 200
    assert gw.get("/v1/me", fresh.access_token).get_json()["mfa_enabled"] is False


def test_delete_account_revokes_every_token(gw, h):
    email, _ = gw.register()
    seed, _ = gw.enrol_totp(gw.login(email).access_token)
    other = gw.login(email, totp=h.totp_at(seed))
    fresh = gw.login(email, totp=h.totp_at(seed, 1))
    deleted = gw.call("DELETE", "/v1/me", fresh.access_token)
    assert deleted.status_code == 204
    for token in (fresh.access_token, other.access_token):
        assert gw.get("/v1/me", token).status_code == 401
    assert gw.refresh(other.refresh_token).status_code == 400
    code, _, page = gw.sign_in(email, totp=h.totp_at(seed, 1))
    assert code is None and page.status_code == 401


def test_register_validation_is_a_problem(gw, h):
    short = gw.client.post(
        "/v1/users", json={"email": h.unique_email(), "password": "short", "name": "A"}
    )
    assert short.status_code == 422 and short.mimetype == "application/problem+json"
    extra = gw.client.post(
        "/v1/users",
        json={"email": h.unique_email(), "password": h.PASSWORD, "name": "A", "role": "admin"},
    )
    assert extra.status_code == 422


@pytest.mark.usefixtures("domain_services")  # the export gathers every service
def test_personal_fields_round_trip_and_the_ssn_only_ever_shows_its_last_four(gw, h):
    email, created = gw.register(
        phone="+15550100077",
        date_of_birth="1980-02-29",
        address={
            "line1": "1 Main St",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        },
        ssn="123-45-6789",
    )
    seed, _ = gw.enrol_totp(gw.login(email).access_token)
    t = gw.login(email, totp=h.totp_at(seed))
    me = gw.get("/v1/me", t.access_token).get_json()
    export = gw.get("/v1/me/export", t.access_token).get_json()
    for body in (created, me, export):
        text = str(body)
        assert "123-45-6789" not in text and "123456789" not in text
    assert created["ssn_last4"] == me["ssn_last4"] == export["profile"]["ssn_last4"] == "6789"
    assert me["phone"] == "+15550100077" and me["date_of_birth"] == "1980-02-29"
