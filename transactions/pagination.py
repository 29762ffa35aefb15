"""Opaque, signed keyset cursors for transaction lists.

A cursor is ``base64url(json) . base64url(HMAC-SHA256(key, json)[:16])``. The JSON names the
sort, a digest of the filters it was issued for, and the sort key of the last row returned
(value and id). A cursor that was edited, forged, or reused with another sort or other filters
is refused with :class:`InvalidCursor` (the service answers 422), never silently ignored.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
SORTS = ("date_desc", "date_asc", "amount_desc", "amount_asc")
MAX_CURSOR_CHARS = 512


class InvalidCursor(ValueError):
    pass


def check_limit(limit: object) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValueError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
    return limit


def check_sort(sort: object) -> str:
    if sort is None:
        return "date_desc"
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    return sort  # type: ignore[return-value]


def filters_digest(filters: Mapping[str, Any]) -> str:
    """A stable digest of the filters (cursor and limit excluded)."""
    canonical = {k: filters[k] for k in sorted(filters) if k not in ("cursor", "limit")}
    text = json.dumps(canonical, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, b"transactions.cursor|" + body, hashlib.sha256).digest()[:16]


def encode_cursor(key: bytes, *, sort: str, digest: str, value: Any, row_id: str) -> str:
    if isinstance(value, dt.date):
        value = value.isoformat()
    body = json.dumps(
        {"v": 1, "s": sort, "f": digest, "k": str(value), "i": row_id}, separators=(",", ":")
    ).encode()
    return f"{_b64(body)}.{_b64(_sign(key, body))}"


def decode_cursor(key: bytes, cursor: object, *, sort: str, digest: str) -> tuple[Any, str]:
    """The (sort value, row id) after which the next page starts."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("the cursor is not valid")
    try:
        body_part, sig_part = cursor.split(".")
        body, sig = _unb64(body_part), _unb64(sig_part)
    except (ValueError, binascii.Error):
        raise InvalidCursor("the cursor is not valid") from None
    if not hmac.compare_digest(sig, _sign(key, body)):
        raise InvalidCursor("the cursor is not valid")
    data = json.loads(body)
    if data.get("s") != sort or data.get("f") != digest:
        raise InvalidCursor("the cursor was issued for another sort or other filters")
    raw, row_id = data.get("k"), data.get("i")
    try:
        value = dt.date.fromisoformat(raw) if sort.startswith("date") else Decimal(raw)
    except (TypeError, ValueError, InvalidOperation):
        raise InvalidCursor("the cursor is not valid") from None
    return value, str(row_id)
