"""``nestegg categorize IN.csv -o OUT.csv``: categorise a bank-statement CSV.

Input needs ``description`` and ``amount`` columns (negative amount = money out, as statements
print it); ``payment_channel`` is used when present; every column is passed through. The output
adds ``category_primary``, ``category_detailed`` (empty when the model is not confident enough)
and ``confidence``. All rows are validated before anything is written; bad rows raise
``CsvInputError`` naming each row number and file line.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from transactions.categorizer.engine import CategorizationEngine
from transactions.categorizer.errors import CategorizerError
from transactions.categorizer.features import feature_row

REQUIRED = ("description", "amount")
ADDED = ("category_primary", "category_detailed", "confidence")
MAX_REPORTED = 20


class CsvInputError(CategorizerError):
    pass


def read_transactions_csv(in_path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    path = Path(in_path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CsvInputError(f"{path}: cannot open ({exc.strerror})") from None
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise CsvInputError(f"{path}: empty file (need a header with {', '.join(REQUIRED)})")
        fieldnames = [f.strip() for f in reader.fieldnames]
        reader.fieldnames = fieldnames
        missing = [c for c in REQUIRED if c not in fieldnames]
        if missing:
            raise CsvInputError(f"{path}: missing column(s) {', '.join(missing)}")
        rows, problems = [], []
        for number, row in enumerate(reader, start=1):
            if None in row:
                problems.append(f"row {number} (line {reader.line_num}): more fields than header")
                continue
            try:
                feature_row(
                    row.get("description") or "",
                    row.get("amount") or "",
                    row.get("payment_channel") or None,
                )
            except CategorizerError as exc:
                problems.append(f"row {number} (line {reader.line_num}): {exc}")
                continue
            rows.append(row)
    if problems:
        shown = "; ".join(problems[:MAX_REPORTED])
        more = f"; and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        raise CsvInputError(f"{path}: {len(problems)} bad row(s): {shown}{more}")
    return fieldnames, rows


def categorize_csv(
    in_path: str | Path,
    out_path: str | Path,
    *,
    engine: CategorizationEngine | None = None,
) -> dict[str, Any]:
    """Categorise ``in_path`` into ``out_path``; returns counts. Loads the stored model if no
    engine is given."""
    fieldnames, rows = read_transactions_csv(in_path)
    if engine is None:
        from transactions.categorizer.artifacts import load_model, store_from_env

        engine = CategorizationEngine(load_model(store_from_env()))
    results = engine.categorize_many(
        [
            {
                "description": r["description"],
                "amount": r["amount"],
                "payment_channel": r.get("payment_channel") or None,
            }
            for r in rows
        ]
    )
    out_fields = [f for f in fieldnames if f not in ADDED] + list(ADDED)
    counts = {"rows": len(rows), "categorized": 0, "uncategorized": 0}
    with Path(out_path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=out_fields, lineterminator="\n")
        writer.writeheader()
        for row, result in zip(rows, results, strict=True):
            out = {k: v for k, v in row.items() if k not in ADDED}
            out["category_primary"] = result["category_primary"] or ""
            out["category_detailed"] = result["category_detailed"] or ""
            out["confidence"] = f"{result['confidence']:.4f}"
            writer.writerow(out)
            counts["categorized" if result["category_detailed"] else "uncategorized"] += 1
    return counts
