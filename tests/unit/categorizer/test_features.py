from decimal import Decimal

import pytest

from transactions.categorizer.errors import InvalidTransaction
from transactions.categorizer.features import (
    amount_bucket,
    feature_row,
    normalize_channel,
    parse_amount,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("-12.50", Decimal("-12.50")),
        (" 1,234.00 ", Decimal("1234.00")),
        (Decimal("3"), Decimal(3)),
        (7, Decimal(7)),
    ],
)
def test_parse_amount(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("bad", [1.5, True, "abc", "", None, "NaN", "Infinity", [1]])
def test_parse_amount_rejects_floats_and_garbage(bad):
    with pytest.raises(InvalidTransaction, match="amount"):
        parse_amount(bad)


def test_buckets_grow_with_size_and_ignore_sign():
    sizes = ["0.50", "3", "15", "75", "300", "2000", "50000"]
    buckets = [amount_bucket(Decimal(s)) for s in sizes]
    assert buckets == sorted(buckets) and len(set(buckets)) == len(buckets)
    assert amount_bucket(Decimal("-75")) == amount_bucket(Decimal("75"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "other"),
        ("", "other"),
        ("In Store", "in store"),
        ("in_store", "in store"),
        ("ONLINE", "online"),
    ],
)
def test_channels(raw, expected):
    assert normalize_channel(raw) == expected


def test_unknown_channel_raises():
    with pytest.raises(InvalidTransaction, match="payment_channel"):
        normalize_channel("carrier pigeon")


def test_feature_row_sign_and_cache_key():
    out = feature_row("POS DEBIT STARBUCKS #1 SEATTLE WA", "-4.50", "in store")
    assert (out.text, out.sign, out.channel) == ("starbucks", -1, "in store")
    assert feature_row("STARBUCKS", "4.50", "in store").cache_key() != out.cache_key()
    assert feature_row("VIS STARBUCKS", "-4.10", "in store").cache_key() == out.cache_key()
