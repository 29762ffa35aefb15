"""CSV and OFX parsing: layouts, date order, decimal styles, sign conversion, bad rows, ids."""

from datetime import date
from decimal import Decimal

import pytest

from aggregation.file_import import ImportRejected, parse_file
from aggregation.file_import.numbers import parse_amount
from aggregation.file_import.parse import stable_ids


def txns(name, text, **kw):
    return parse_file(name, text.encode(), **kw)[0].transactions


def test_generic_us_csv_converts_to_plaid_sign():
    rows = txns("a.csv", "Date,Description,Amount\n01/15/2024,COFFEE,-4.50\n01/16/2024,PAY,10\n")
    assert [(r.date, r.amount) for r in rows] == [
        (date(2024, 1, 15), Decimal("4.50")),
        (date(2024, 1, 16), Decimal("-10")),
    ]


def test_chase_card_layout():
    text = (
        "Transaction Date,Post Date,Description,Category,Type,Amount,Memo\n"
        "03/02/2024,03/03/2024,AMAZON MKTPL,Shopping,Sale,-23.99,\n"
        "03/05/2024,03/05/2024,Payment Thank You,,Payment,500.00,\n"
    )
    rows = txns("chase.csv", text)
    assert [r.amount for r in rows] == [Decimal("23.99"), Decimal("-500.00")]
    assert rows[0].date == date(2024, 3, 3)  # the posting date is preferred


def test_bank_of_america_preamble_and_balance_row_are_skipped():
    text = (
        'Description,,Summary Amt.\nBeginning balance as of 01/01/2024,,"1,000.00"\n\n'
        "Date,Description,Amount,Running Bal.\n"
        '01/01/2024,Beginning balance as of 01/01/2024,,"1,000.00"\n'
        '01/02/2024,"GROCERY, INC","-1,234.56","-234.56"\n'
    )
    rows = txns("stmt.csv", text)
    assert len(rows) == 1 and rows[0].amount == Decimal("1234.56") and rows[0].row == 6


def test_amex_charges_are_positive_already():
    text = (
        "Date,Description,Card Member,Account #,Amount\n"
        "02/01/2024,DELTA AIR,J DOE,-11005,350.00\n02/03/2024,PAYMENT,J DOE,-11005,-100.00\n"
    )
    assert [r.amount for r in txns("amex.csv", text)] == [Decimal("350.00"), Decimal("-100.00")]


def test_uk_debit_credit_columns_and_day_first_dates():
    text = (
        "Date,Description,Money Out,Money In,Balance\n"
        "05/03/2024,TESCO,12.30,,100.00\n06/03/2024,SALARY,,2000.00,2100.00\n"
    )
    rows = txns("monzo.csv", text)
    assert rows[0].date == date(2024, 3, 5)  # DD/MM: UK columns
    assert [r.amount for r in rows] == [Decimal("12.30"), Decimal("-2000.00")]


def test_day_month_order_detected_from_the_data():
    text = "Date,Description,Amount\n25/12/2024,GIFT,-10\n01/12/2024,X,-1\n"
    assert txns("x.csv", text)[1].date == date(2024, 12, 1)


def test_european_semicolon_and_comma_decimals():
    text = "Datum;Buchungstext;Betrag\n15.01.2024;REWE;-1.234,56\n03.02.2024;Gehalt;2.000,00\n"
    rows = txns("de.csv", text)
    assert [r.amount for r in rows] == [Decimal("1234.56"), Decimal("-2000.00")]


def test_revolut_datetime_and_currency():
    text = (
        "Type,Product,Started Date,Completed Date,Description,Amount,Fee,Currency,State\n"
        "CARD_PAYMENT,Current,2024-01-05 10:22:11,2024-01-06 08:00:00,Pret,-5.25,0.00,GBP,COMPLETED\n"
    )
    row = txns("rev.csv", text)[0]
    assert (row.date, row.amount, row.currency) == (date(2024, 1, 6), Decimal("5.25"), "GBP")


def test_explicit_mapping():
    text = "When,What,Out,In\n2024-01-02,Rent,900,\n"
    rows = txns(
        "m.csv",
        text,
        mapping={"date": "When", "description": "What", "debit": "Out", "credit": "In"},
    )
    assert rows[0].amount == Decimal("900")


def test_bad_rows_are_all_listed():
    text = "Date,Description,Amount\n01/15/2024,OK,-1\n99/99/2024,BAD DATE,-1\n01/16/2024,,-1\n01/17/2024,X,abc\n"
    with pytest.raises(ImportRejected) as caught:
        txns("bad.csv", text)
    assert [e.row for e in caught.value.errors] == [3, 4, 5]
    assert "description" in caught.value.errors[1].reason


@pytest.mark.parametrize("content", [b"", b"   ", b"just some words\nno columns\n", b"\x00\x01"])
def test_unusable_files_are_refused(content):
    with pytest.raises(ImportRejected):
        parse_file("x.csv", content)


def test_size_limit():
    with pytest.raises(ImportRejected, match="larger than"):
        parse_file("big.csv", b"x" * (5 * 1024 * 1024 + 1))


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("-1,234.56", "-1234.56"),
        ("(12.00)", "-12.00"),
        ("£5.00", "5.00"),
        ("12.00 DR", "-12.00"),
        ("7.5-", "-7.5"),
        ("$1,000", "1000"),
    ],
)
def test_amount_styles(raw, expected):
    assert parse_amount(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["", "abc", "1.2.3", "1e5", "NaN", "12.345678"])
def test_bad_amounts(raw):
    with pytest.raises(ValueError):
        parse_amount(raw)


SGML = b"""OFXHEADER:100
DATA:OFXSGML

<OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><CCSTMTRS><CURDEF>USD
<CCACCTFROM><ACCTID>4111111111111111</CCACCTFROM><BANKTRANLIST>
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-42.10<FITID>A1<NAME>CAFE &amp; BAR<MEMO>card
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240110120000.000[-5:EST]<TRNAMT>5.00<FITID>A2<NAME>REFUND
</BANKTRANLIST></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>"""

XML = b"""<?xml version="1.0" encoding="UTF-8"?><?OFX OFXHEADER="200" VERSION="220"?>
<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR</CURDEF>
<BANKACCTFROM><BANKID>1</BANKID><ACCTID>DE89370400440532013000</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>
<BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240301</DTPOSTED><TRNAMT>-10.00</TRNAMT>
<FITID>X1</FITID><NAME>SHOP</NAME></STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"""


def test_ofx_sgml_credit_card():
    account = parse_file("card.qfx", SGML)[0]
    assert account.type == "credit" and account.mask == "1111" and "4111111111" not in account.key
    assert [(t.amount, t.source_id) for t in account.transactions] == [
        (Decimal("42.10"), "A1"),
        (Decimal("-5.00"), "A2"),
    ]
    assert account.transactions[0].name == "CAFE & BAR card"
    assert account.transactions[1].date == date(2024, 1, 10)


def test_ofx_xml_v2():
    account = parse_file("x.ofx", XML)[0]
    assert account.currency == "EUR" and account.transactions[0].amount == Decimal("10.00")


def test_ofx_bad_transactions_listed():
    broken = SGML.replace(b"<FITID>A1", b"").replace(b"<DTPOSTED>20240110", b"<DTPOSTED>2024")
    with pytest.raises(ImportRejected) as caught:
        parse_file("card.ofx", broken)
    assert [e.row for e in caught.value.errors] == [1, 2]


def test_not_ofx():
    with pytest.raises(ImportRejected, match="OFX"):
        parse_file("x.ofx", b"<html></html>", declared_format="ofx")


def test_stable_ids_repeat_across_imports_and_keep_identical_rows_apart():
    text = "Date,Description,Amount\n01/15/2024,COFFEE,-4.50\n01/15/2024,coffee ,-4.50\n"
    rows = txns("a.csv", text)
    ids = stable_ids("u1", "acct", rows)
    assert ids == stable_ids("u1", "acct", txns("a.csv", text))
    assert len(set(ids)) == 2
    assert stable_ids("u2", "acct", rows) != ids
