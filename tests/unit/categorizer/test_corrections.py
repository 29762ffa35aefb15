import pytest

from transactions.categorizer.corrections import (
    corrections_as_training_rows,
    forget_correction,
    lookup_correction,
    record_correction,
)
from transactions.categorizer.errors import InvalidTransaction, UnknownCategory
from transactions.categorizer.normalize import merchant_key


def test_correction_applies_to_later_prints_of_the_same_merchant_for_that_user_only():
    memory = record_correction(
        {}, "alice", "POS DEBIT COSTCO WHSE #0123 SEATTLE WA", "FOOD_AND_DRINK_GROCERIES"
    )
    later = merchant_key("COSTCO WHSE 0456 PORTLAND OR")
    assert lookup_correction(memory, "alice", later) == "FOOD_AND_DRINK_GROCERIES"
    assert lookup_correction(memory, "bob", later) is None
    assert lookup_correction(memory, None, later) is None


def test_record_does_not_mutate_and_latest_wins():
    first = record_correction({}, "alice", "NETFLIX.COM", "ENTERTAINMENT_TV_AND_MOVIES")
    second = record_correction(first, "alice", "NETFLIX.COM", "ENTERTAINMENT_OTHER_ENTERTAINMENT")
    key = merchant_key("NETFLIX.COM")
    assert first["alice"][key] == "ENTERTAINMENT_TV_AND_MOVIES"
    assert second["alice"][key] == "ENTERTAINMENT_OTHER_ENTERTAINMENT"


def test_forget():
    memory = record_correction({}, "alice", "NETFLIX.COM", "ENTERTAINMENT_TV_AND_MOVIES")
    assert forget_correction(memory, "alice", "Netflix.com") == {"alice": {}}


def test_bad_corrections_raise():
    with pytest.raises(UnknownCategory):
        record_correction({}, "alice", "NETFLIX", "NOT_A_CATEGORY")
    with pytest.raises(InvalidTransaction, match="user_id"):
        record_correction({}, "", "NETFLIX", "ENTERTAINMENT_TV_AND_MOVIES")
    with pytest.raises(InvalidTransaction, match="description"):
        record_correction({}, "alice", "", "ENTERTAINMENT_TV_AND_MOVIES")


def test_corrections_become_training_rows():
    rows = corrections_as_training_rows(
        [
            {
                "description": "SQ *LUNA BAKERY",
                "amount": "-6.00",
                "category_detailed": "FOOD_AND_DRINK_OTHER_FOOD_AND_DRINK",
                "payment_channel": "in store",
            }
        ]
    )
    assert rows == [
        {
            "description": "SQ *LUNA BAKERY",
            "amount": "-6.00",
            "payment_channel": "in store",
            "category_detailed": "FOOD_AND_DRINK_OTHER_FOOD_AND_DRINK",
            "merchant": "luna bakery",
        }
    ]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"amount": "-1", "category_detailed": "TRAVEL_FLIGHTS"},
            "correction 1: missing field 'description'",
        ),
        (
            {"description": "X", "amount": "one", "category_detailed": "TRAVEL_FLIGHTS"},
            "correction 1: amount",
        ),
        (
            {"description": "X", "amount": "1", "category_detailed": "FLIGHTS"},
            "correction 1: unknown",
        ),
    ],
)
def test_bad_training_rows_name_the_item(item, message):
    with pytest.raises(InvalidTransaction, match=message):
        corrections_as_training_rows([item])
