"""Rate limits (429 + Retry-After, spoofed X-Forwarded-For and X-User-ID, Redis down fails
closed), lockout after 10 failures, and no account enumeration by answer or by timing
(security reference A8, A9, E11, G2)."""

import dataclasses
import statistics
import time


def _attempt(gw, form, email, password, headers=None):
    return gw.client.post(
        form.form_action,
        data={"csrf_token": form.inputs["csrf_token"], "email": email, "password": password},
        content_type="application/x-www-form-urlencoded",
        headers=headers or {},
    )


def _form(gw, h):
    _, challenge = h.pkce()
    return gw.open_form(gw.authorize_url(challenge=challenge))


def test_login_limit_gives_429_problem_with_retry_after(make_gateway, h):
    gw = make_gateway(login_limit="3/minute")
    form = _form(gw, h)
    statuses = [
        _attempt(gw, form, h.unique_email(), "wrong password here").status_code for _ in range(3)
    ]
    assert statuses == [401, 401, 401]
    limited = _attempt(gw, form, h.unique_email(), "wrong password here")
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["code"] == "rate_limited"


def test_rotating_x_forwarded_for_does_not_reset_the_limit(make_gateway, h):
    gw = make_gateway(login_limit="3/minute")  # trusted_proxies = 0: XFF is not trusted at all
    form = _form(gw, h)
    codes = [
        _attempt(
            gw, form, h.unique_email(), "wrong password here", {"X-Forwarded-For": f"203.0.113.{i}"}
        ).status_code
        for i in range(5)
    ]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


def test_behind_one_trusted_proxy_only_the_proxy_added_hop_counts(make_gateway, provisioned, h):
    settings = dataclasses.replace(provisioned, trusted_proxies=1)
    gw = make_gateway(settings, login_limit="3/minute")
    form = _form(gw, h)
    # the client forges the left part; the proxy appends the real address at the right
    codes = [
        _attempt(
            gw,
            form,
            h.unique_email(),
            "wrong password here",
            {"X-Forwarded-For": f"10.9.8.{i}, 198.51.100.7"},
        ).status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    other_client = _attempt(
        gw, form, h.unique_email(), "wrong password here", {"X-Forwarded-For": "198.51.100.8"}
    )
    assert other_client.status_code == 401


def test_register_is_rate_limited_per_ip(make_gateway, h):
    gw = make_gateway(register_limit="2/minute")
    codes = [
        gw.client.post(
            "/v1/users", json={"email": h.unique_email(), "password": "short", "name": "X"}
        ).status_code
        for _ in range(3)
    ]
    assert codes == [422, 422, 429]


def test_client_sent_x_user_id_is_ignored(gw, h):
    email_a, profile_a = gw.register()
    _, profile_b = gw.register()
    t = gw.login(email_a)
    me = gw.get("/v1/me", t.access_token, headers={"X-User-ID": profile_b["id"]})
    assert me.status_code == 200 and me.get_json()["id"] == profile_a["id"]
    anonymous = gw.client.get("/v1/me", headers={"X-User-ID": profile_b["id"]})
    assert anonymous.status_code == 401


def test_per_user_limit_follows_the_verified_token_not_headers(make_gateway):
    gw = make_gateway(api_user_limit="3/minute")
    email_a, _ = gw.register()
    email_b, profile_b = gw.register()
    a, b = gw.login(email_a), gw.login(email_b)
    for _ in range(3):
        assert (
            gw.get("/v1/me", a.access_token, headers={"X-User-ID": profile_b["id"]}).status_code
            == 200
        )
    assert gw.get("/v1/me", a.access_token).status_code == 429
    assert gw.get("/v1/me", b.access_token).status_code == 200  # B's budget is untouched


def test_redis_down_fails_closed_with_503(make_gateway, h):
    gw = make_gateway(ratelimit_storage_uri="redis://127.0.0.1:1/0")
    form = _form(gw, h)
    response = _attempt(gw, form, h.unique_email(), "whatever password")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"


def test_lockout_after_ten_failures(gw, h):
    email, _ = gw.register()
    form = _form(gw, h)
    for _ in range(10):
        assert _attempt(gw, form, email, "not the password at all").status_code == 401
    locked = _attempt(gw, form, email, h.PASSWORD)
    assert locked.status_code == 423
    assert int(locked.headers["Retry-After"]) > 25 * 60
    assert "Location" not in locked.headers


def test_no_enumeration_same_answer_and_similar_latency(gw, h):
    """Unknown e-mail vs wrong password: identical status and body, and the median latency
    of each within 20 % of the other (interleaved samples in one run: a ratio, not a time)."""
    users = [gw.register()[0] for _ in range(3)]
    form = _form(gw, h)
    unknown_t, wrong_t = [], []
    bodies = set()
    rounds = 8
    for r in range(rounds):
        for email in users:
            t0 = time.perf_counter()
            miss = _attempt(gw, form, h.unique_email("ghost"), "wrong password for sure")
            unknown_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            bad = _attempt(gw, form, email, "wrong password for sure")
            wrong_t.append(time.perf_counter() - t0)
            assert miss.status_code == bad.status_code == 401
            bodies.add(miss.get_data())
            bodies.add(bad.get_data())
        if r % 3 == 2:  # keep the real accounts below the lockout threshold
            for email in users:
                assert gw.login(email, client=gw.app.test_client()).access_token
    assert len(bodies) == 1
    ratio = statistics.median(unknown_t) / statistics.median(wrong_t)
    print(f"median unknown/wrong-password latency ratio: {ratio:.3f}")
    assert 1 / 1.2 <= ratio <= 1.2


def _per_minute(limits: str) -> float:
    from limits import parse_many

    return min(
        item.amount * 60 / item.get_expiry() for item in parse_many(limits.replace(";", ","))
    )


def test_oauth_and_mfa_limits_are_stricter_than_the_api_limit():
    from gateway.auth.config import AuthConfig

    config = AuthConfig()
    api = _per_minute(config.api_user_limit)
    for name in ("login_limit", "token_limit", "mfa_limit"):
        assert _per_minute(getattr(config, name)) < api / 4, name


def test_token_and_mfa_routes_hit_their_own_limits_first(make_gateway, h):
    gw = make_gateway(token_limit="3/minute", mfa_limit="2/minute")
    email, _ = gw.register()
    t = gw.login(email)  # one /oauth/token call
    refresh = t.refresh_token
    for _ in range(2):
        rotated = gw.refresh(refresh)
        assert rotated.status_code == 200, rotated.get_json()
        refresh = rotated.get_json()["refresh_token"]
    limited = gw.refresh(refresh)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    token = rotated.get_json()["access_token"]
    for _ in range(2):
        gw.call("POST", "/v1/me/mfa/totp/confirm", token, json={"code": "000000"})
    mfa = gw.call("POST", "/v1/me/mfa/totp/confirm", token, json={"code": "000000"})
    assert mfa.status_code == 429 and mfa.mimetype == "application/problem+json"
    assert int(mfa.headers["Retry-After"]) > 0
    assert gw.get("/v1/me", token).status_code == 200  # the API limit is untouched
