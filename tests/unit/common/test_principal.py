import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from common.errors import Forbidden, StepUpRequired, Unauthenticated
from common.principal import TokenSigner

ISS, AUD = "https://nestegg.test", "nestegg-api"


@pytest.fixture
def signer():
    return TokenSigner(issuer=ISS, audience=AUD)


def test_valid_token_yields_the_principal(signer):
    token = signer.sign("user-1", scopes=["profile", "accounts:read"], amr=["pwd", "otp"])
    principal = signer.verifier().verify(token)
    assert principal.user_id == "user-1"
    assert principal.scopes == {"profile", "accounts:read"}
    assert principal.amr == ("pwd", "otp")
    assert principal.has_recent_second_factor()


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_is_rejected(signer):
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "u", "iat": now, "exp": now + 60, "jti": "x"}
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(Unauthenticated):
        signer.verifier().verify(token)


def test_hmac_with_the_public_key_is_rejected(signer):
    """Algorithm confusion: HS256 signed with the public key's PEM as the secret."""
    from cryptography.hazmat.primitives import serialization

    pem = signer.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "u", "iat": now, "exp": now + 60, "jti": "x"}
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': signer.kid})}.{_b64(claims)}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(Unauthenticated):
        signer.verifier().verify(token)


def test_wrong_audience_expired_and_foreign_key_are_rejected(signer):
    verifier = signer.verifier()
    other = TokenSigner(issuer=ISS, audience="someone-else", kid=signer.kid)
    with pytest.raises(Unauthenticated):
        verifier.verify(other.sign("u"))
    with pytest.raises(Unauthenticated):
        verifier.verify(signer.sign("u", now=time.time() - 3600, lifetime=60))
    stranger = TokenSigner(issuer=ISS, audience=AUD, kid=signer.kid)  # same kid, other key
    with pytest.raises(Unauthenticated):
        verifier.verify(stranger.sign("u"))


def test_rs256_from_a_trusted_key_is_accepted():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    from common.principal import PrincipalVerifier

    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "u", "iat": now, "exp": now + 60, "jti": "j"}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "r1"})
    verifier = PrincipalVerifier({"r1": key.public_key()}, issuer=ISS, audience=AUD)
    assert verifier.verify(token).user_id == "u"


def test_refresh_token_used_as_bearer_is_rejected(signer):
    with pytest.raises(Unauthenticated):
        signer.verifier().verify(signer.sign("u", extra={"typ": "refresh"}))


@pytest.mark.parametrize("garbage", [None, "", "abc", 42, "a.b.c", "x" * 9000])
def test_garbage_is_unauthenticated_not_a_crash(signer, garbage):
    with pytest.raises(Unauthenticated):
        signer.verifier().verify(garbage)


def test_scopes_and_step_up(signer):
    principal = signer.verifier().verify(
        signer.sign("u", scopes=["portfolio:read"], amr=["pwd", "otp"], auth_time=time.time() - 601)
    )
    principal.require_scopes("portfolio:read")
    with pytest.raises(Forbidden):
        principal.require_scopes("portfolio:write")
    with pytest.raises(StepUpRequired):
        principal.require_step_up()
    password_only = signer.verifier().verify(signer.sign("u", amr=["pwd"]))
    assert not password_only.has_recent_second_factor()
