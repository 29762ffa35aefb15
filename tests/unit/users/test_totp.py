"""TOTP helpers: 160-bit seeds, window of one step, the step a code belongs to, QR PNG."""

import base64
import urllib.parse

import pytest

from users import totp

T0 = 1_700_000_000  # a fixed instant; no wall clock in these tests


@pytest.fixture
def secret():
    return totp.new_secret()


def test_seed_is_160_bits_and_fresh(secret):
    assert len(secret) == 32 and len(base64.b32decode(secret)) == 20
    assert totp.new_secret() != secret


def test_matching_step_finds_the_codes_own_step(secret):
    code = totp.code_at(secret, T0)
    assert totp.matching_step(secret, code, T0) == totp.time_step(T0)
    # one step of clock drift either way is accepted, and reports the code's own step
    assert totp.matching_step(secret, code, T0 + 30) == totp.time_step(T0)
    assert totp.matching_step(secret, code, T0 - 30) == totp.time_step(T0)


def test_codes_older_than_one_step_are_refused(secret):
    code = totp.code_at(secret, T0)
    assert totp.matching_step(secret, code, T0 + 61) is None
    assert totp.matching_step(secret, code, T0, window=0) == totp.time_step(T0)
    assert totp.matching_step(secret, code, T0 + 30, window=0) is None


def test_window_above_one_is_refused(secret):
    with pytest.raises(ValueError, match="window"):
        totp.matching_step(secret, "123456", T0, window=2)


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", None, 123456])
def test_malformed_codes_never_match(secret, bad):
    assert totp.matching_step(secret, bad, T0) is None


def test_spaces_in_codes_are_ignored(secret):
    code = totp.code_at(secret, T0)
    assert totp.matching_step(secret, f"{code[:3]} {code[3:]}", T0) == totp.time_step(T0)


def test_short_seeds_are_refused():
    with pytest.raises(ValueError, match="32"):
        totp.code_at("JBSWY3DPEHPK3PXP", T0)


def test_provisioning_uri_and_qr(secret):
    uri = totp.provisioning_uri(secret, "alice@example.com")
    parsed = urllib.parse.urlparse(uri)
    query = urllib.parse.parse_qs(parsed.query)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert query["secret"] == [secret] and query["issuer"] == ["Nestegg"]
    png = base64.b64decode(totp.qr_png_base64(uri))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 200
