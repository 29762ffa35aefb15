"""The session-wide secret log guard catches what it must, and lets ordinary records pass."""

import logging

import pytest


@pytest.mark.parametrize(
    "message, kind",
    [
        ("token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.sig", "jwt"),
        ("pw=marble otter sings quietly at noon", "password"),
        ("plaid access-sandbox-8ab976e2-1234-5678", "plaid access token"),
        ("ssn 123-45-6789", "ssn"),
    ],
)
def test_guard_flags_secrets(h, message, kind):
    guard = h.SecretLogGuard()
    guard.emit(logging.LogRecord("x", logging.INFO, __file__, 1, message, None, None))
    assert guard.leaks == [f"x: {kind}"]


def test_guard_flags_totp_seeds_it_was_told_about(h):
    h.remember_seed("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    guard = h.SecretLogGuard()
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "seed %s", ("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",), None
    )
    guard.emit(record)
    assert guard.leaks == ["x: totp seed"]


def test_guard_ignores_ordinary_records(h):
    guard = h.SecretLogGuard()
    guard.emit(
        logging.LogRecord("x", logging.INFO, __file__, 1, "GET /v1/me 200 in %s ms", (3,), None)
    )
    assert guard.leaks == []
