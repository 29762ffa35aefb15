import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from transactions.categorization import Categorizer, list_categories, resolve_category
from transactions.export import COLUMNS, to_csv
from transactions.splits import SplitError, check_split

D = Decimal


def test_csv_has_header_rows_and_defuses_formulas():
    text = to_csv(
        [
            {
                "id": "1",
                "date": dt.date(2026, 3, 1).isoformat(),
                "amount": "-12.50",
                "currency": "USD",
                "description": '=HYPERLINK("http://x")',
                "merchant_name": 'Café, "Le"',
                "tags": ["a", "b"],
                "pending": False,
                "notes": None,
            }
        ]
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(COLUMNS)
    record = dict(zip(COLUMNS, rows[1], strict=True))
    assert record["description"].startswith("'=")
    assert record["merchant_name"] == 'Café, "Le"'
    assert record["amount"] == "-12.50" and record["tags"] == "a;b"
    assert record["pending"] == "false" and record["notes"] == ""
    assert text.endswith("\r\n")


def test_split_must_sum_exactly():
    check_split(D("-100.00"), [{"amount": D("-60.01")}, {"amount": D("-39.99")}])
    with pytest.raises(SplitError, match="sum to -100.00, not"):
        check_split(D("-100.01"), [{"amount": D("-60.01")}, {"amount": D("-39.99")}])


@pytest.mark.parametrize(
    "total,parts,message",
    [
        (D("-10"), [{"amount": D("-10")}], "2 to 20"),
        (D("-10"), [{"amount": D("-12")}, {"amount": D("2")}], "sign"),
        (D("-10"), [{"amount": D("-10")}, {"amount": D("0")}], "non-zero"),
        (D("0"), [{"amount": D("0")}, {"amount": D("0")}], "zero-amount"),
    ],
)
def test_bad_splits_are_refused(total, parts, message):
    with pytest.raises(SplitError, match=message):
        check_split(total, parts)


def test_taxonomy_lists_primaries_with_their_detailed_names():
    categories = list_categories()
    assert len(categories) == 18
    assert sum(len(c["detailed"]) for c in categories) == 123
    food = next(c for c in categories if c["primary"] == "FOOD_AND_DRINK")
    assert "FOOD_AND_DRINK_GROCERIES" in food["detailed"]
    assert resolve_category("FOOD_AND_DRINK") == ("FOOD_AND_DRINK", None)
    assert resolve_category("FOOD_AND_DRINK_GROCERIES") == (
        "FOOD_AND_DRINK",
        "FOOD_AND_DRINK_GROCERIES",
    )
    with pytest.raises(ValueError, match="unknown category"):
        resolve_category("GROCERIES")


def test_layers_without_a_model_correction_then_provider_then_none():
    categorizer = Categorizer(load_model=False)
    txns = [
        {
            "description": "WHOLEFDS MKT 10234",
            "amount": D("-50"),
            "user_id": "u1",
            "provider_category": "FOOD_AND_DRINK_RESTAURANT",
        },
        {
            "description": "ACME WIDGETS 5",
            "amount": D("-5"),
            "user_id": "u1",
            "provider_category": "FOOD_AND_DRINK_RESTAURANT",
        },
        {
            "description": "ACME WIDGETS 5",
            "amount": D("-5"),
            "user_id": "u1",
            "provider_category": "NOT_A_CATEGORY",
        },
    ]
    from transactions.categorization import merchant_key

    memory = {"u1": {merchant_key("WHOLEFDS MKT 10234"): "FOOD_AND_DRINK_GROCERIES"}}
    results = categorizer.categorize_many(txns, corrections=memory)
    assert [r["source"] for r in results] == ["correction", "provider", "none"]
    assert results[0]["category_detailed"] == "FOOD_AND_DRINK_GROCERIES"
    assert results[1]["category_primary"] == "FOOD_AND_DRINK"
    assert results[2]["category_detailed"] is None
    other_user = categorizer.categorize_many([dict(txns[0], user_id="u2")], corrections=memory)
    assert other_user[0]["source"] == "provider"
