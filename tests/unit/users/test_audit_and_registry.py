"""Audit detail sanitising and OAuth redirect-URI rules (plain functions, no database)."""

import pytest

from users import audit, registry


def test_secrets_are_redacted_from_details():
    clean = audit.sanitise_details(
        {
            "reason": "bad_password",
            "password": "hunter2hunter2",
            "refresh_token": "abc",
            "client_secret": "s3cret",
            "note": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig",
            "count": 3,
            "multi": "line\ninjected",
        }
    )
    assert clean["reason"] == "bad_password" and clean["count"] == 3
    for key in ("password", "refresh_token", "client_secret", "note"):
        assert clean[key] == audit.REDACTED
    assert "\n" not in clean["multi"]


def test_details_limits():
    assert audit.sanitise_details(None) == {}
    assert len(audit.sanitise_details({"x": "y" * 1000})["x"]) == audit.MAX_DETAIL_VALUE
    with pytest.raises(ValueError, match="at most"):
        audit.sanitise_details({f"k{i}": i for i in range(21)})
    with pytest.raises(ValueError, match="object"):
        audit.sanitise_details(["not", "a", "dict"])


@pytest.mark.parametrize("event", ["login", "token.issue", "oauth_client.create"])
def test_event_names_accepted(event):
    audit.check_event(event, "success")


@pytest.mark.parametrize(
    ("event", "outcome"),
    [("Login", "success"), ("x" * 65, "success"), ("a b", "success"), ("login", "maybe")],
)
def test_bad_event_names_and_outcomes(event, outcome):
    with pytest.raises(ValueError):
        audit.check_event(event, outcome)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/cb",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:8765/cb",
        "http://[::1]:9000/cb",
    ],
)
def test_redirect_uris_accepted(uri):
    assert registry.check_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://example.com/cb", "loopback"),
        ("http://localhost:8000/cb", "localhost"),
        ("https://*.example.com/cb", "wildcard"),
        ("https://app.example.com/cb#frag", "fragment"),
        ("ftp://app.example.com/cb", "absolute"),
        ("/relative", "absolute"),
        ("https://user:pw@app.example.com/cb", "credentials"),
        ("http://127.0.0.1:99999/cb", "port"),
    ],
)
def test_redirect_uris_refused(uri, message):
    with pytest.raises(ValueError, match=message):
        registry.check_redirect_uri(uri)
