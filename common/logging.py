"""JSON logs, one object a line, with ``request_id``, ``service`` and ``user_id`` where known.

``request_id`` and ``user_id`` live in context variables: the gateway sets them per HTTP
request, nameko workers set them from the RPC context data or the event envelope. A filter
redacts anything that looks like a secret (JWTs, bearer tokens, Plaid access tokens, passwords
in key=value form, long digit runs such as card or account numbers) before it is formatted.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import traceback

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)

_REDACTIONS = (
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"), "[REDACTED-JWT]"),
    (re.compile(r"(?i)\bbearer\s+[\w.~+/=-]{8,}"), "Bearer [REDACTED]"),
    (
        re.compile(r"\b(access|public|link)-(sandbox|development|production)-[\w-]+"),
        "[REDACTED-PLAID-TOKEN]",
    ),
    (
        re.compile(
            r"(?i)([\"']?[\w-]*(?:password|passwd|secret|token|api[_-]?key|totp|otp|seed|ssn|pepper"
            r"|recovery_codes?|challenge)[\w-]*[\"']?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|\[[^\]]*\]|[^\s,;&}]+)"
        ),
        r"\1[REDACTED]",
    ),
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "[REDACTED-SSN]"),
    (re.compile(r"\b\d{12,19}\b"), "[REDACTED-NUMBER]"),
    (re.compile(r"\botpauth://\S+"), "[REDACTED-OTPAUTH]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _redacting_record_factory(factory):
    def make(*args, **kwargs):
        record = factory(*args, **kwargs)
        _redact_record(record)
        return record

    make._nestegg_redacting = True
    return make


def _redact_record(record: logging.LogRecord) -> None:
    """Render the message and any traceback now, redacted, so no handler (ours, a library's,
    pytest's) ever sees the raw text. The traceback survives as ``exc_text``."""
    try:
        message = record.getMessage()
    except Exception:  # a broken %-format must not lose the record
        message = str(record.msg)
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        record.exc_info = None


def install_redaction() -> None:
    """Redact every log record of this process when it is created (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "_nestegg_redacting", False):
        logging.setLogRecordFactory(_redacting_record_factory(factory))


install_redaction()


class RedactingFilter(logging.Filter):
    """Rewrites the rendered message and exception text so secrets never reach a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class ContextFilter(logging.Filter):
    def __init__(self, service: str = "nestegg"):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = getattr(record, "service", None) or self.service
        record.request_id = request_id_var.get()
        record.user_id = user_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "service": getattr(record, "service", None),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        for key in ("event", "event_id", "outcome", "duration_ms", "status"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps({k: v for k, v in entry.items() if v is not None}, default=str)


def configure(service: str, level: str | int = "INFO", stream=None, logger=None) -> None:
    """Install one JSON handler on the root logger, or on ``logger`` (idempotent)."""
    root = logger or logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_nestegg", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._nestegg = True
    handler.addFilter(ContextFilter(service))
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
