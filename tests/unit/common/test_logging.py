import io
import json
import logging

import pytest

from common.logging import configure, redact, request_id_var, user_id_var

SECRETS = [
    "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZw",
    "access-sandbox-8ab976e6-64bc-4b38-98f7-731e7a349970",
    "123-45-6789",
    "4111111111111111",
    "otpauth://totp/Nestegg:a@b.c?secret=JBSWY3DPEHPK3PXP",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_redact_removes_secrets(secret):
    assert secret not in redact(f"something {secret} happened")


@pytest.mark.parametrize(
    "text", ['password="hunter2 hunter2"', "client_secret=abc123def", "token: s3cr3t"]
)
def test_redact_key_value_secrets(text):
    out = redact(text)
    assert "hunter2" not in out and "abc123def" not in out and "s3cr3t" not in out


LOGGER = logging.getLogger("t")


@pytest.fixture
def captured():
    """A JSON handler on a non-propagating logger: these tests log secrets on purpose, and
    the session-wide secret guard on the root logger must not see them."""
    stream = io.StringIO()
    LOGGER.propagate = False
    configure("unit", stream=stream, logger=LOGGER)
    yield stream
    for handler in list(LOGGER.handlers):
        LOGGER.removeHandler(handler)
    LOGGER.propagate = True


def test_one_json_object_per_line_with_context(captured):
    token = request_id_var.set("req-42")
    user = user_id_var.set("user-7")
    try:
        LOGGER.info("hello %s", "world")
    finally:
        request_id_var.reset(token)
        user_id_var.reset(user)
    record = json.loads(captured.getvalue().strip())
    assert record["message"] == "hello world"
    assert record["request_id"] == "req-42"
    assert record["user_id"] == "user-7"
    assert record["service"] == "unit"


def test_log_injection_stays_one_record(captured):
    LOGGER.warning("name=%s", 'evil\n{"level":"INFO","message":"forged"}')
    lines = captured.getvalue().strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["level"] == "WARNING"


def test_secrets_in_args_and_exceptions_are_redacted(captured):
    try:
        raise ValueError(f"bad token {SECRETS[0]}")
    except ValueError:
        LOGGER.exception("failed for %s", SECRETS[1])
    out = captured.getvalue()
    assert SECRETS[0] not in out and SECRETS[1] not in out
    assert "REDACTED" in out


def test_every_record_is_redacted_at_creation_for_any_handler():
    """Even a handler that is not ours (a library's, pytest's) never sees the raw secret."""
    seen = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append((record.getMessage(), record.exc_text or ""))

    logger = logging.getLogger("t.foreign")
    logger.propagate = False
    handler = Collect()
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"boom {SECRETS[0]}")
        except RuntimeError:
            logger.exception("while handling %s", SECRETS[1])
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    message, trace = seen[0]
    assert SECRETS[0] not in message + trace and SECRETS[1] not in message + trace
    assert "RuntimeError" in trace  # the traceback itself is kept
