import pytest

from gateway.openapi import DOCS_CSP
from gateway.security_headers import API_CSP


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json", "/nowhere"])
def test_api_responses_carry_security_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == API_CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Server" not in response.headers
    assert "Strict-Transport-Security" not in response.headers  # plain http here


def test_docs_page_has_its_own_csp_without_inline_scripts(client):
    response = client.get("/docs")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert csp == DOCS_CSP
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    html = response.get_data(as_text=True)
    assert "<script>" not in html  # every script is a file from 'self'
    assert "http://" not in html and "https://" not in html  # no CDN


def test_https_via_trusted_proxy_gets_hsts(make_app):
    client = make_app(trusted_proxies=1).test_client()
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_forwarded_headers_ignored_without_trusted_proxies(make_app):
    app = make_app()

    @app.get("/test/whoami")
    def whoami():
        from flask import request

        return {"addr": request.remote_addr, "scheme": request.scheme}

    body = (
        app.test_client()
        .get("/test/whoami", headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"})
        .get_json()
    )
    assert body == {"addr": "127.0.0.1", "scheme": "http"}


def test_forwarded_headers_honoured_for_one_trusted_hop(make_app):
    app = make_app(trusted_proxies=1)

    @app.get("/test/whoami")
    def whoami():
        from flask import request

        return {"addr": request.remote_addr}

    body = (
        app.test_client()
        .get("/test/whoami", headers={"X-Forwarded-For": "6.6.6.6, 10.0.0.7"})
        .get_json()
    )
    assert body == {"addr": "10.0.0.7"}  # only the last (trusted) hop is believed
