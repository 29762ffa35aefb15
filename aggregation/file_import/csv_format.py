"""Bank CSV exports: delimiter, header row, column mapping, date order and decimal style.

Recognised without configuration (header names, case-insensitive):
- generic ``Date, Description, Amount`` and split ``Debit / Credit`` (``Money Out / Money In``,
  ``Paid out / Paid in``, ``Withdrawals / Deposits``) columns;
- Chase (``Transaction Date, Post Date, Description, Category, Type, Amount``; checking:
  ``Details, Posting Date, Description, Amount``), Bank of America (summary lines before
  ``Date, Description, Amount, Running Bal.``), Amex (``Date, Description, Card Member, ...,
  Amount``; charges are positive), Barclays (``Number, Date, Account, Amount, Subcategory,
  Memo``), Monzo (``Date, Time, Type, Name, ..., Amount, Currency``), Revolut (``Started
  Date, Completed Date, Description, Amount, Currency``);
- European files with ``;`` separators and ``1.234,56`` amounts (``Datum``, ``Buchungstext``,
  ``Betrag``, ``Montant`` ...).
Bank exports print money out as negative; the result is converted to Plaid's convention
(positive = money out). Amex-style exports (charges positive) are detected by their columns.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from aggregation.file_import import dates, numbers
from aggregation.file_import.errors import ImportRejected, RowError, file_error

DATE_NAMES = (
    "completed date",
    "posting date",
    "post date",
    "posted date",
    "transaction date",
    "date",
    "trans. date",
    "trans date",
    "booking date",
    "value date",
    "buchungstag",
    "datum",
    "date operation",
    "date opération",
    "fecha",
    "started date",
)
DESCRIPTION_NAMES = (
    "description",
    "name",
    "payee",
    "merchant",
    "transaction description",
    "details",
    "narrative",
    "memo",
    "buchungstext",
    "verwendungszweck",
    "libellé",
    "libelle",
    "concepto",
    "beschreibung",
    "reference",
)
AMOUNT_NAMES = (
    "amount",
    "transaction amount",
    "amount (gbp)",
    "amount (eur)",
    "amount (usd)",
    "value",
    "betrag",
    "montant",
    "importe",
    "bedrag",
)
DEBIT_NAMES = (
    "debit",
    "debit amount",
    "money out",
    "paid out",
    "withdrawal",
    "withdrawals",
    "withdrawal amount",
    "out",
    "soll",
    "débit",
    "debit (out)",
)
CREDIT_NAMES = (
    "credit",
    "credit amount",
    "money in",
    "paid in",
    "deposit",
    "deposits",
    "deposit amount",
    "in",
    "haben",
    "crédit",
    "credit (in)",
)
CURRENCY_NAMES = ("currency", "currency code", "ccy", "währung", "devise")
# columns that only exports with "charges are positive" have
POSITIVE_IS_OUT_HINTS = ("card member", "appears on your statement as", "extended details")
EUROPEAN_HINTS = (
    "money out",
    "money in",
    "paid out",
    "paid in",
    "datum",
    "betrag",
    "montant",
    "buchungstext",
    "amount (gbp)",
    "amount (eur)",
)
SKIP_DESCRIPTIONS = (
    "beginning balance",
    "ending balance",
    "opening balance",
    "closing balance",
    "balance brought forward",
    "balance carried forward",
)
MAX_PREAMBLE_ROWS = 20


@dataclass(frozen=True)
class CsvMapping:
    date: str
    description: str
    amount: str | None = None
    debit: str | None = None
    credit: str | None = None
    currency: str | None = None
    date_format: str | None = None
    positive_is_out: bool = False

    def __post_init__(self) -> None:
        if not self.date or not self.description:
            raise ValueError("a mapping needs the date and description columns")
        if bool(self.amount) == bool(self.debit or self.credit):
            raise ValueError("map either amount, or debit and/or credit (not both)")


@dataclass(frozen=True)
class CsvRow:
    row: int  # 1-based line number in the file
    date: object  # datetime.date
    amount: object  # Decimal, Plaid convention
    description: str
    currency: str | None


def decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t", "|"):
        counts = [len(next(csv.reader([line], delimiter=delimiter))) for line in lines]
        consistent = max((counts.count(c) for c in set(counts)), default=0)
        width = max(counts, default=1)
        score = consistent * (width > 1) * min(width, 12)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _norm(name: str) -> str:
    return " ".join(name.strip().strip('"').lower().split())


def _find(header: list[str], names: tuple[str, ...]) -> str | None:
    normalised = {_norm(h): h for h in header}
    for name in names:
        if name in normalised:
            return normalised[name]
    return None


def detect_mapping(header: list[str]) -> CsvMapping | None:
    date_col = _find(header, DATE_NAMES)
    desc_col = _find(header, DESCRIPTION_NAMES)
    amount_col = _find(header, AMOUNT_NAMES)
    debit_col = _find(header, DEBIT_NAMES)
    credit_col = _find(header, CREDIT_NAMES)
    if not date_col or not desc_col or not (amount_col or debit_col or credit_col):
        return None
    normalised = {_norm(h) for h in header}
    positive_is_out = any(h in normalised for h in POSITIVE_IS_OUT_HINTS)
    if amount_col:
        return CsvMapping(
            date_col,
            desc_col,
            amount=amount_col,
            currency=_find(header, CURRENCY_NAMES),
            positive_is_out=positive_is_out,
        )
    return CsvMapping(
        date_col,
        desc_col,
        debit=debit_col,
        credit=credit_col,
        currency=_find(header, CURRENCY_NAMES),
    )


def mapping_from_payload(mapping: dict) -> CsvMapping:
    try:
        return CsvMapping(
            date=mapping["date"],
            description=mapping["description"],
            amount=mapping.get("amount"),
            debit=mapping.get("debit"),
            credit=mapping.get("credit"),
            currency=mapping.get("currency"),
            date_format=mapping.get("date_format"),
            positive_is_out=mapping.get("amount_sign") == "positive_is_out",
        )
    except (KeyError, ValueError) as exc:
        raise file_error(f"invalid mapping: {exc}") from None


def _header_index(rows: list[list[str]], mapping: CsvMapping | None) -> tuple[int, CsvMapping]:
    for index, row in enumerate(rows[:MAX_PREAMBLE_ROWS]):
        if mapping is not None:
            wanted = [
                c
                for c in (
                    mapping.date,
                    mapping.description,
                    mapping.amount,
                    mapping.debit,
                    mapping.credit,
                    mapping.currency,
                )
                if c
            ]
            present = {_norm(c) for c in row}
            if all(_norm(c) in present for c in wanted):
                return index, mapping
        else:
            found = detect_mapping(row)
            if found is not None:
                return index, found
    if mapping is not None:
        raise file_error("the mapped columns were not found in any header row")
    raise file_error(
        "could not recognise the columns; send a mapping {date, description, amount | "
        "debit + credit}"
    )


def parse_csv(
    content: bytes, *, mapping: dict | None = None, max_rows: int = 50_000
) -> list[CsvRow]:
    text = decode(content)
    if "\x00" in text:
        raise file_error("the file is binary, not CSV")
    delimiter = sniff_delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise file_error(f"malformed CSV: {exc}") from None
    explicit = mapping_from_payload(mapping) if mapping else None
    header_at, chosen = _header_index(rows, explicit)
    header = [_norm(h) for h in rows[header_at]]
    col = {
        name: header.index(_norm(name))
        for name in (
            chosen.date,
            chosen.description,
            chosen.amount,
            chosen.debit,
            chosen.credit,
            chosen.currency,
        )
        if name
    }
    body = [
        (header_at + 2 + i, r)
        for i, r in enumerate(rows[header_at + 1 :])
        if any(cell.strip() for cell in r)
    ]
    if not body:
        raise file_error("the file has a header but no transactions")
    if len(body) > max_rows:
        raise file_error(f"the file has {len(body)} rows; the limit is {max_rows}")

    def cell(r: list[str], name: str | None) -> str:
        if not name:
            return ""
        i = col[name]
        return r[i].strip() if i < len(r) else ""

    body = [
        (n, r)
        for n, r in body
        if not (
            cell(r, chosen.description).lower().startswith(SKIP_DESCRIPTIONS)
            and not cell(r, chosen.amount)
            and not cell(r, chosen.debit)
            and not cell(r, chosen.credit)
        )
    ]
    money_samples = [
        cell(r, c)
        for _, r in body
        for c in (chosen.amount, chosen.debit, chosen.credit)
        if c and cell(r, c)
    ]
    decimal_comma = numbers.detect_decimal_comma(money_samples)
    header_text = {_norm(h) for h in rows[header_at]}
    day_first = (
        delimiter == ";"
        or decimal_comma
        or any(h in header_text for h in EUROPEAN_HINTS)
        or any(cell(r, chosen.currency).upper() in ("GBP", "EUR") for _, r in body[:20])
    )
    date_values = [cell(r, chosen.date) for _, r in body]
    errors: list[RowError] = []
    fmt = chosen.date_format
    if fmt is None:
        try:
            fmt = dates.detect_date_format(date_values, prefer_day_first=day_first)
        except ValueError:
            fmt = dates.best_partial_format(date_values, prefer_day_first=day_first)
            if fmt is None:
                raise file_error(
                    f"unrecognised date format (e.g. {date_values[0][:30]!r}); "
                    "send mapping.date_format"
                ) from None
    parsed: list[CsvRow] = []
    for number, r in body:
        try:
            when = dates.parse_date(cell(r, chosen.date), fmt)
            description = cell(r, chosen.description)
            if not description:
                raise ValueError("description is empty")
            if chosen.amount:
                value = numbers.parse_amount(cell(r, chosen.amount), decimal_comma=decimal_comma)
                amount = value if chosen.positive_is_out else -value
            else:
                debit_text, credit_text = cell(r, chosen.debit), cell(r, chosen.credit)
                if not debit_text and not credit_text:
                    raise ValueError("both debit and credit are empty")
                debit = (
                    abs(numbers.parse_amount(debit_text, decimal_comma=decimal_comma))
                    if debit_text
                    else 0
                )
                credit = (
                    abs(numbers.parse_amount(credit_text, decimal_comma=decimal_comma))
                    if credit_text
                    else 0
                )
                amount = debit - credit
            currency = cell(r, chosen.currency).upper() or None
            if currency is not None and not (len(currency) == 3 and currency.isalpha()):
                raise ValueError(f"currency {currency[:10]!r} is not an ISO code")
            parsed.append(CsvRow(number, when, amount, description[:500], currency))
        except ValueError as exc:
            errors.append(RowError(number, str(exc)))
    if errors:
        raise ImportRejected(errors)
    return parsed
