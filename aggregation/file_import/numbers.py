"""Amounts as banks print them: ``-1,234.56``, ``1.234,56``, ``(12.00)``, ``£5``, ``12.00 CR``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SYMBOLS = re.compile(r"[£$€¥\s\u00a0\u202f']|[A-Z]{3}$|^[A-Z]{3}")
_COMMA_DECIMAL = re.compile(r"^[-+]?\d{1,3}(\.\d{3})*,\d{1,2}$|^[-+]?\d+,\d{1,2}$")
_DOT_DECIMAL = re.compile(r"^[-+]?\d{1,3}(,\d{3})*\.\d{1,4}$|^[-+]?\d+\.\d{1,4}$")
MAX_ABS = Decimal("1e12")


def detect_decimal_comma(samples: list[str]) -> bool:
    """True when the column writes ``1.234,56`` (comma as the decimal separator)."""
    comma = dot = 0
    for raw in samples:
        text = _strip(raw)[1]
        if _COMMA_DECIMAL.match(text):
            comma += 1
        elif _DOT_DECIMAL.match(text):
            dot += 1
    return comma > dot


def _strip(raw: str) -> tuple[bool, str]:
    text = raw.strip()
    negative = False
    upper = text.upper()
    if upper.endswith(("CR", "DR")):
        negative = upper.endswith("DR")
        text = text[:-2].strip()
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    text = _SYMBOLS.sub("", text.upper()).strip()
    if text.endswith("-"):
        negative, text = True, text[:-1]
    return negative, text


def parse_amount(raw: str, *, decimal_comma: bool = False) -> Decimal:
    """A signed Decimal; raises ValueError with a reason for anything that is not an amount."""
    if raw is None or not raw.strip():
        raise ValueError("amount is empty")
    negative, text = _strip(raw)
    text = text.replace(".", "").replace(",", ".") if decimal_comma else text.replace(",", "")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?|[-+]?\.\d+", text):
        raise ValueError(f"amount {raw.strip()[:40]!r} is not a number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"amount {raw.strip()[:40]!r} is not a number") from None
    if abs(value) >= MAX_ABS:
        raise ValueError("amount is implausibly large")
    if value.as_tuple().exponent < -4:
        raise ValueError("amount has more than 4 decimal places")
    return -value if negative else value
