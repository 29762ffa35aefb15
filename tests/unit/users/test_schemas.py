"""Boundary schemas of the users RPCs: normalisation and refusals (no broker needed)."""

import pytest
from marshmallow import ValidationError

from common.errors import ValidationFailed
from common.schemas import validate_or_raise
from users import schemas as s


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("+1 (555) 010-0001", "+15550100001"),
        ("555.010.0001", "5550100001"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_normalisation(raw, clean):
    assert s.normalise_phone(raw) == clean


@pytest.mark.parametrize(
    "raw", ["call me", "+1", "12345", "+1 555 010 0001 0002 0003 4", "555-CALL-NOW"]
)
def test_bad_phones(raw):
    with pytest.raises(ValidationError):
        s.normalise_phone(raw)


def test_ssn_rules():
    assert s.normalise_ssn("123-45-6789") == s.normalise_ssn("123456789") == "123456789"
    for bad in (
        "000-12-3456",
        "666-12-3456",
        "912-34-5678",
        "123-00-4567",
        "123-45-0000",
        "12-345-6789",
        "abc",
    ):
        with pytest.raises(ValidationError):
            s.normalise_ssn(bad)


def test_register_requires_the_core_fields_and_refuses_extras():
    with pytest.raises(ValidationFailed) as caught:
        validate_or_raise(s.RegisterIn(), {"email": "a@example.org", "role": "admin"})
    errors = caught.value.extra["errors"]
    assert {"password", "name", "role"} <= set(errors)
    with pytest.raises(ValidationFailed):
        validate_or_raise(s.RegisterIn(), ["not", "an", "object"])


def test_authenticate_shapes():
    ok = validate_or_raise(s.AuthenticateIn(), {"email": "a@example.org", "password": "p" * 12})
    assert "totp" not in ok
    ok = validate_or_raise(
        s.AuthenticateIn(), {"mfa_challenge": "c" * 43, "recovery_code": "abcde-fghjk"}
    )
    assert ok["recovery_code"] == "abcde-fghjk"
    for bad in (
        {},
        {"mfa_challenge": "c" * 43},
        {"email": "a@example.org", "password": "p" * 12, "totp": "1", "recovery_code": "2"},
        {"email": "a@example.org", "password": "p" * 2000},
    ):
        with pytest.raises(ValidationFailed):
            validate_or_raise(s.AuthenticateIn(), bad)


def test_booleans_must_be_json_booleans():
    base = {"name": "X", "redirect_uris": ["https://x.example.com/cb"], "scopes": ["openid"]}
    assert validate_or_raise(s.OAuthClientIn(), {**base, "public": True})["public"] is True
    for value in ("yes", 1, "true", None):
        with pytest.raises(ValidationFailed):
            validate_or_raise(s.OAuthClientIn(), {**base, "public": value})


def test_profile_update_allows_only_personal_fields():
    assert validate_or_raise(s.ProfileUpdateIn(), {"name": "New Name"}) == {"name": "New Name"}
    for field in ("email", "id", "role", "mfa_enabled", "password"):
        with pytest.raises(ValidationFailed):
            validate_or_raise(s.ProfileUpdateIn(), {field: "x"})


def test_risk_answers_are_strict_integers():
    base = {
        "horizon_years": 10,
        "loss_tolerance": "hold",
        "income_stability": "stable",
        "experience": "none",
    }
    assert validate_or_raise(s.RiskProfileIn(), base)["age"] is None
    for bad in (
        {"horizon_years": "10"},
        {"horizon_years": 10.5},
        {"age": 17},
        {"experience": "guru"},
    ):
        with pytest.raises(ValidationFailed):
            validate_or_raise(s.RiskProfileIn(), {**base, **bad})
