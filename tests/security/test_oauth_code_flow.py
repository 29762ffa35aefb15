"""Authorization code + PKCE (S256 only), exact redirect matching, single-use codes, the sign-in
page, unsupported grants and response types (security reference D1-D4)."""

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest


def test_full_flow_issues_an_es256_access_token_and_opaque_refresh_token(gw, h):
    email, profile = gw.register()
    tokens = gw.login(email)
    header = jwt.get_unverified_header(tokens.access_token)
    claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
    assert header["alg"] == "ES256" and header["kid"] == gw.ext.issuer.kid
    assert claims["sub"] == profile["id"] and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] <= 900
    assert claims["amr"] == ["pwd"] and claims["mfa"] is False
    assert claims["client_id"] == h.CLI
    assert {"iss", "aud", "jti", "scope", "auth_time", "sid"} <= set(claims)
    assert set(tokens.scope.split()) == {"profile:read", "profile:write"}
    assert not tokens.refresh_token.startswith("eyJ") and len(tokens.refresh_token) >= 43
    me = gw.get("/v1/me", tokens.access_token)
    assert me.status_code == 200 and me.get_json()["email"] == email
    assert "password_hash" not in me.get_json()


def test_login_page_is_self_contained_and_csrf_protected(gw, h):
    verifier, challenge = h.pkce()
    page = gw.client.get(gw.authorize_url(challenge=challenge))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<script" not in html and "http://" not in html.replace(h.REDIRECT, "")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "form-action 'self' http://127.0.0.1:8765" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    form = h.parse_form(html)
    assert {"email", "password", "totp", "recovery_code", "csrf_token"} <= set(form.inputs)
    email, _ = gw.register()
    bad = gw.client.post(
        form.form_action,
        data={"csrf_token": "forged", "email": email, "password": h.PASSWORD},
        content_type="application/x-www-form-urlencoded",
    )
    assert bad.status_code == 403 and "Location" not in bad.headers
    # a form posted without the sign-in cookie (another browser) is refused too
    other = gw.app.test_client()
    stray = other.post(
        form.form_action,
        data={"csrf_token": form.inputs["csrf_token"], "email": email, "password": h.PASSWORD},
        content_type="application/x-www-form-urlencoded",
    )
    assert stray.status_code == 400 and "Location" not in stray.headers


def test_state_is_returned_and_code_bound_to_client_and_redirect(gw, h):
    email, _ = gw.register()
    code, verifier, response = gw.sign_in(email, state="xyz-42")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == h.REDIRECT
    assert parse_qs(location.query)["state"] == ["xyz-42"]
    other_redirect = gw.exchange(code, verifier, redirect_uri="http://127.0.0.1:9999/callback")
    assert other_redirect.status_code == 400
    assert other_redirect.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "challenge_kind, method",
    [("none", None), ("plain", "plain"), ("s256", None), ("s256", "s256")],
)
def test_pkce_is_required_and_s256_only(gw, h, challenge_kind, method):
    verifier, challenge = h.pkce()
    value = {"none": None, "plain": verifier, "s256": challenge}[challenge_kind]
    url = gw.authorize_url(challenge=value, method=method)
    if value is None:
        url = gw.authorize_url(challenge=None)
    page = gw.client.get(url)
    assert page.status_code == 400, page.get_data(as_text=True)[:300]
    assert "Location" not in page.headers


def test_wrong_or_missing_verifier_is_refused(gw, h):
    email, _ = gw.register()
    code, verifier, _ = gw.sign_in(email)
    wrong = gw.exchange(code, h.pkce()[0])
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    code2, _, _ = gw.sign_in(email)
    missing = gw.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code2,
            "redirect_uri": h.REDIRECT,
            "client_id": h.CLI,
        },
        content_type="application/x-www-form-urlencoded",
    )
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8765/callback/x",
        "http://127.0.0.1:8765/callback?a=b",
        "http://127.0.0.1:8765/callbackx",
        "http://localhost:8765/callback",
        "https://evil.example/callback",
        "http://127.0.0.1:8765/callback#frag",
    ],
)
def test_redirect_uri_must_match_exactly_and_is_never_redirected_to(gw, h, redirect_uri):
    _, challenge = h.pkce()
    page = gw.client.get(gw.authorize_url(challenge=challenge, redirect_uri=redirect_uri))
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert page.mimetype == "text/html"


def test_loopback_redirect_accepts_any_port(gw, h):
    _, challenge = h.pkce()
    for port in (1024, 50000, 65535):
        uri = f"http://127.0.0.1:{port}/callback"
        assert (
            gw.client.get(gw.authorize_url(challenge=challenge, redirect_uri=uri)).status_code
            == 200
        )


def test_unknown_client_gets_an_error_page(gw, h):
    _, challenge = h.pkce()
    page = gw.client.get(gw.authorize_url(challenge=challenge, client_id="nope"))
    assert page.status_code == 400 and "Location" not in page.headers


def test_code_is_single_use_and_replay_revokes_its_tokens(gw):
    email, _ = gw.register()
    code, verifier, _ = gw.sign_in(email)
    first = gw.exchange(code, verifier)
    assert first.status_code == 200
    access, refresh = first.get_json()["access_token"], first.get_json()["refresh_token"]
    assert gw.get("/v1/me", access).status_code == 200
    replay = gw.exchange(code, verifier)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert gw.get("/v1/me", access).status_code == 401
    assert gw.refresh(refresh).status_code == 400


def test_codes_expire(make_gateway):
    import time

    gw = make_gateway(code_ttl=1)
    email, _ = gw.register()
    code, verifier, _ = gw.sign_in(email)
    time.sleep(2.1)
    assert gw.exchange(code, verifier).status_code == 400


def test_implicit_flow_and_password_grant_are_refused(gw, h):
    _, challenge = h.pkce()
    implicit = gw.client.get(gw.authorize_url(challenge=challenge, response_type="token"))
    # the redirect URI is valid, so RFC 6749 §4.1.2.1 lets the error go to the client
    assert implicit.status_code in (302, 400)
    if implicit.status_code == 302:
        query = parse_qs(urlsplit(implicit.headers["Location"]).query)
        assert query["error"] == ["unsupported_response_type"]
        assert "access_token" not in implicit.headers["Location"]
    email, _ = gw.register()
    password = gw.client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": email,
            "password": h.PASSWORD,
            "client_id": h.CLI,
        },
        content_type="application/x-www-form-urlencoded",
    )
    assert password.status_code == 400
    assert password.get_json()["error"] == "unsupported_grant_type"


def test_public_client_cannot_use_client_credentials(gw, h):
    response = gw.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": h.CLI},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] in ("unauthorized_client", "invalid_client")


def test_token_endpoint_wants_a_form(gw):
    response = gw.client.post("/oauth/token", json={"grant_type": "authorization_code"})
    assert response.status_code == 415


def test_third_party_clients_ask_for_consent_first_party_do_not(gw, h, rpc_pool):
    created = rpc_pool.call(
        "users",
        "create_oauth_client",
        {
            "name": "Tax helper",
            "redirect_uris": ["https://tax.example/cb"],
            "scopes": ["transactions:read", "portfolio:read"],
            "public": False,
            "first_party": False,
        },
    )
    email, _ = gw.register()
    _, challenge = h.pkce()
    url = gw.authorize_url(
        client_id=created["client_id"],
        redirect_uri="https://tax.example/cb",
        challenge=challenge,
        scope="transactions:read",
    )
    form = gw.open_form(url)
    assert "consent" in form.inputs  # the scopes are shown with an "Allow" box
    fields = {"email": email, "password": h.PASSWORD}
    unticked = gw.submit(form, fields)
    assert unticked.status_code == 400 and "Location" not in unticked.headers
    denied = gw.submit(form, {**fields, "action": "deny"})
    assert denied.status_code == 302
    query = parse_qs(urlsplit(denied.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["st-1"]
    assert "code" not in query
    form = gw.open_form(url)
    approved = gw.submit(form, {**fields, "consent": "approve"})
    assert approved.status_code == 302, approved.get_data(as_text=True)[:300]
    query = parse_qs(urlsplit(approved.headers["Location"]).query)
    assert query["code"] and query["state"] == ["st-1"]
    # the built-in first-party CLI client signs in without a consent step
    _, challenge = h.pkce()
    assert "consent" not in gw.open_form(gw.authorize_url(challenge=challenge)).inputs
