"""CSV export of transactions (RFC 4180, UTF-8, one header row).

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) are prefixed with a single quote (OWASP "CSV injection"); amounts are
plain decimal strings in the ledger sign convention (negative = money out).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

COLUMNS = (
    "id",
    "date",
    "amount",
    "currency",
    "description",
    "merchant_name",
    "category_primary",
    "category_detailed",
    "account_id",
    "pending",
    "source",
    "tags",
    "notes",
)
TEXT_COLUMNS = frozenset({"description", "merchant_name", "tags", "notes", "account_id"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    text = str(value)
    return safe_cell(text) if column in TEXT_COLUMNS else text


def to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(c, row.get(c)) for c in COLUMNS])
    return out.getvalue()
