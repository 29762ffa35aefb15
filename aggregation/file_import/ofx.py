"""A small, tolerant OFX/QFX reader: SGML (v1.x, unclosed leaf tags) and XML (v2.x).

Only what an import needs: per statement the account (BANKACCTFROM / CCACCTFROM / INVACCTFROM
``ACCTID``, ``ACCTTYPE``), the default currency ``CURDEF`` and each ``STMTTRN`` (``FITID``,
``DTPOSTED``, ``TRNAMT``, ``NAME``, ``MEMO``, ``TRNTYPE``, ``CURRENCY/CURSYM``). No network,
no external entities: the XML form is read by the same tag scanner, never by an XML parser.
OFX amounts are signed from the account holder's side (negative = money out); the caller
converts them to Plaid's convention.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date

from aggregation.file_import import numbers
from aggregation.file_import.errors import ImportRejected, RowError, file_error

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9_.]*)\s*>([^<]*)")


@dataclass
class Node:
    name: str
    text: str | None = None
    children: list[Node] = field(default_factory=list)

    def find(self, name: str) -> Node | None:
        for child in self.children:
            if child.name == name:
                return child
        return None

    def value(self, name: str) -> str | None:
        child = self.find(name)
        return child.text if child is not None else None

    def walk(self, name: str):
        for child in self.children:
            if child.name == name:
                yield child
            yield from child.walk(name)


@dataclass(frozen=True)
class OfxTransaction:
    index: int  # 1-based position in the file
    fitid: str
    posted: date
    amount: object  # Decimal, OFX sign (negative = money out)
    name: str
    currency: str | None


@dataclass(frozen=True)
class OfxStatement:
    account_id: str
    account_type: str | None
    currency: str | None
    transactions: list[OfxTransaction]


def parse_tree(text: str) -> Node:
    start = text.upper().find("<OFX>")
    if start < 0:
        raise file_error("not an OFX/QFX file (no <OFX> element)")
    root = Node("ROOT")
    stack = [root]
    for match in _TAG.finditer(text, start):
        closing, name, tail = match.group(1), match.group(2).upper(), match.group(3)
        if closing:
            # close the innermost open aggregate of that name; stray closers of leaves are fine
            for depth in range(len(stack) - 1, 0, -1):
                if stack[depth].name == name:
                    del stack[depth:]
                    break
            continue
        value = tail.strip()
        node = Node(name)
        stack[-1].children.append(node)
        if value:
            node.text = html.unescape(value)  # a leaf: SGML leaves have no closing tag
        else:
            stack.append(node)
    ofx = root.find("OFX")
    if ofx is None:
        raise file_error("not an OFX/QFX file (no <OFX> element)")
    return ofx


def parse_ofx_date(raw: str | None) -> date:
    if not raw:
        raise ValueError("DTPOSTED is missing")
    digits = raw.strip()[:8]
    if not re.fullmatch(r"\d{8}", digits):
        raise ValueError(f"DTPOSTED {raw.strip()[:20]!r} is not YYYYMMDD")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise ValueError(f"DTPOSTED {raw.strip()[:20]!r} is not a valid date") from None


def _account(statement: Node) -> tuple[str, str | None]:
    for tag in ("BANKACCTFROM", "CCACCTFROM", "INVACCTFROM"):
        node = next(statement.walk(tag), None)
        if node is not None:
            account_id = node.value("ACCTID")
            if account_id:
                return account_id.strip(), node.value("ACCTTYPE") or (
                    "CREDITCARD" if tag == "CCACCTFROM" else None
                )
    raise file_error("a statement has no account (BANKACCTFROM/CCACCTFROM ACCTID)")


def parse_ofx(content: bytes, *, max_rows: int = 50_000) -> list[OfxStatement]:
    text = content.decode("utf-8", errors="replace") if b"\x00" not in content else None
    if text is None:
        raise file_error("the file is binary, not OFX")
    ofx = parse_tree(text)
    statements = [*ofx.walk("STMTRS"), *ofx.walk("CCSTMTRS")]
    if not statements:
        raise file_error("the OFX file holds no bank or credit-card statement")
    errors: list[RowError] = []
    result: list[OfxStatement] = []
    index = 0
    for statement in statements:
        account_id, account_type = _account(statement)
        currency = (statement.value("CURDEF") or "").strip().upper() or None
        transactions = []
        for trn in statement.walk("STMTTRN"):
            index += 1
            if index > max_rows:
                raise file_error(f"the file has more than {max_rows} transactions")
            try:
                fitid = (trn.value("FITID") or "").strip()
                if not fitid:
                    raise ValueError("FITID is missing")
                posted = parse_ofx_date(trn.value("DTPOSTED"))
                raw_amount = trn.value("TRNAMT")
                if raw_amount is None:
                    raise ValueError("TRNAMT is missing")
                amount = numbers.parse_amount(
                    raw_amount, decimal_comma="," in raw_amount and "." not in raw_amount
                )
                name = (
                    " ".join(
                        part.strip() for part in (trn.value("NAME"), trn.value("MEMO")) if part
                    )
                    or (trn.value("TRNTYPE") or "").strip()
                )
                if not name:
                    raise ValueError("NAME, MEMO and TRNTYPE are all missing")
                cur = trn.find("CURRENCY") or trn.find("ORIGCURRENCY")
                own = (cur.value("CURSYM") if cur is not None else None) or currency
                transactions.append(
                    OfxTransaction(index, fitid[:255], posted, amount, name[:500], own)
                )
            except ValueError as exc:
                errors.append(RowError(index, str(exc)))
        result.append(OfxStatement(account_id, account_type, currency, transactions))
    if errors:
        raise ImportRejected(errors)
    if index == 0:
        raise file_error("the OFX file holds no transactions")
    return result
