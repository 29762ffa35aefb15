import pytest

from transactions.categorizer.errors import InvalidTransaction
from transactions.categorizer.normalize import clean_description, merchant_key, normalize

CASES = [
    ("POS DEBIT STARBUCKS #1234 SEATTLE WA", "starbucks"),
    ("CARD PAYMENT TO STARBUCKS ON 12-03-2024", "starbucks"),
    ("CHECKCARD 0412 STARBUCKS STORE 0998 SEATTLE WA 24431064103000123456789", "starbucks"),
    (
        "PURCHASE AUTHORIZED ON 04/12 SHELL OIL 57444 HOUSTON TX S582103456789012 CARD 1234",
        "shell oil",
    ),
    ("SQ *BLUE BOTTLE COFFEE Oakland CA", "blue bottle coffee"),
    ("TST* JOE'S PIZZA - BROOKLYN NY", "joe's pizza"),
    ("PAYPAL *NETFLIX.COM 4029357733 CA", "netflix"),
    ("INTERAC PURCHASE 1234 TIM HORTONS #2345 TORONTO ON", "tim hortons"),
    ("EFTPOS WOOLWORTHS 1234 SYDNEY NSW AU", "woolworths"),
    ("VISA PURCHASE COLES 0543 MELBOURNE VIC AUS CARD XX4321 VALUE DATE: 12/03/2024", "coles"),
    ("KARTENZAHLUNG REWE 1234 BERLIN DE 2024-03-12", "rewe"),
    ("ACH CREDIT ACME CORP PAYROLL PPD ID: 1234567890", "ach credit acme corp payroll"),
    ("DIRECT DEP GUSTO PAYROLL 240312", "direct dep gusto payroll"),
    ("7-ELEVEN 34567 DALLAS TX", "7-eleven"),
    ("OVERDRAFT ITEM FEE", "overdraft item fee"),
    ("Tesco Stores 3297 London GB", "tesco stores"),
    ("McDonald's F12345 Chicago IL", "mcdonald's"),
    ("POS 1234 12MAR24 C PRET A MANGER LONDON", "pret a manger"),
    ("VIS SAINSBURYS CD 1234", "sainsburys"),
    ("DEBIT CARD PURCHASE XXXXX1234 WHOLE FOODS MARKET AUSTIN TX", "whole foods market"),
    ("CONTACTLESS COSTA COFFEE MANCHESTER GB", "costa coffee"),
    ("DD THAMES WATER 1234567890", "thames water"),
    ("SEPA-LASTSCHRIFT VATTENFALL MANDAT 1234567890", "vattenfall"),
    ("Point of Sale - Interac RETAIL PURCHASE 000001234567 LOBLAWS", "loblaws"),
    ("IDP PURCHASE - 4821 METRO TORONTO ON", "metro"),
    ("Apple Pay Pret A Manger London", "pret a manger"),
    ("ATM WITHDRAWAL 000123 03/12", "atm withdrawal"),
    ("COMPRA TARJ. MERCADONA MADRID ES", "mercadona"),
    ("ONLINE TRANSFER TO SAV XXXXXX4321 REF #IB0XYZ12345", "online transfer to sav"),
    ("Netflix.com", "netflix"),
    ("TARGET        00012345   MINNEAPOLIS  MN", "target"),
    ("STEAMGAMES.COM 4259522985 WA", "steamgames"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_clean_description(raw, expected):
    assert clean_description(raw) == expected


def test_the_same_merchant_printed_many_ways_has_one_key():
    prints = [
        "POS DEBIT STARBUCKS #1234 SEATTLE WA",
        "CARD PAYMENT TO STARBUCKS ON 12-03-2024",
        "CHECKCARD 0412 STARBUCKS STORE 0998 SEATTLE WA 24431064103000123456789",
        "Starbucks 00123 Chicago IL",
        "VIS STARBUCKS LONDON",
        "SQ *STARBUCKS",
    ]
    assert {merchant_key(p) for p in prints} == {"starbucks"}


def test_key_drops_legal_suffixes_and_keeps_payment_words_in_clean_text():
    result = normalize("ACH CREDIT ACME CORP PAYROLL PPD ID: 1234567890")
    assert "payroll" in result.clean
    assert result.merchant_key == "acme payroll"


def test_different_merchants_get_different_keys():
    assert merchant_key("UBER *TRIP HELP.UBER.COM CA") != merchant_key("UBER *EATS PENDING")


def test_noise_only_description_keeps_something():
    assert clean_description("12345") == "12345"


@pytest.mark.parametrize("bad", ["", "   ", None, 42, b"STARBUCKS"])
def test_bad_descriptions_raise(bad):
    with pytest.raises(InvalidTransaction, match="description"):
        clean_description(bad)


def test_overlong_description_raises():
    with pytest.raises(InvalidTransaction, match="at most"):
        clean_description("X" * 600)
