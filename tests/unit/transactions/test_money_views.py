import datetime as dt
from decimal import Decimal

import pytest

from transactions.budgets import add_months, crossed_thresholds, progress
from transactions.cashflow import cashflow
from transactions.transfers import match_transfer_pairs, transfer_ids

D = Decimal


def row(id, day, amount, account="chk", primary=None, detailed=None, currency="USD"):
    return {
        "id": id,
        "account_id": account,
        "date": dt.date.fromisoformat(day),
        "amount": D(amount),
        "currency": currency,
        "category_primary": primary,
        "category_detailed": detailed,
    }


def test_opposite_amounts_between_two_accounts_within_days_are_a_transfer():
    rows = [
        row("out", "2026-03-01", "-500", "chk"),
        row("in", "2026-03-03", "500", "sav"),
        row("same-acct", "2026-03-02", "500", "chk"),
        row("far", "2026-03-20", "500", "sav"),
    ]
    assert match_transfer_pairs(rows) == [("out", "in")]


def test_pairs_need_same_currency_and_window_and_each_row_pairs_once():
    rows = [
        row("o1", "2026-03-01", "-100", "chk"),
        row("o2", "2026-03-01", "-100", "chk"),
        row("i1", "2026-03-02", "100", "card"),
        row("eur", "2026-03-01", "100", "card", currency="EUR"),
        row("late", "2026-03-09", "100", "card"),
    ]
    assert match_transfer_pairs(rows) == [("o1", "i1")]
    with pytest.raises(ValueError):
        match_transfer_pairs(rows, window_days=-1)


def test_transfer_categories_count_even_without_a_pair():
    rows = [
        row("cc", "2026-03-05", "-300", primary="LOAN_PAYMENTS"),
        row("xfer", "2026-03-05", "-50", primary="TRANSFER_OUT"),
        row("food", "2026-03-05", "-50", primary="FOOD_AND_DRINK"),
    ]
    assert transfer_ids(rows) == {"cc", "xfer"}


def test_cashflow_by_month_leaves_transfers_out():
    rows = [
        row("pay", "2026-03-01", "3000", primary="INCOME"),
        row("rent", "2026-03-02", "-1200", primary="RENT_AND_UTILITIES"),
        row("out", "2026-03-10", "-500", "chk"),
        row("in", "2026-03-11", "500", "sav"),
        row("food", "2026-04-01", "-80.25", primary="FOOD_AND_DRINK"),
        row("refund", "2026-04-02", "10.25", primary="FOOD_AND_DRINK"),
        row("outside", "2026-05-01", "-1", primary="FOOD_AND_DRINK"),
    ]
    result = cashflow(
        rows,
        start=dt.date(2026, 3, 1),
        end=dt.date(2026, 4, 30),
        transfers=transfer_ids(rows),
    )
    march, april = result["groups"]
    assert (march["month"], march["income"], march["spending"], march["net"]) == (
        "2026-03",
        D("3000"),
        D("1200"),
        D("1800"),
    )
    assert march["transfers"] == 2
    assert (april["income"], april["spending"], april["net"]) == (D("10.25"), D("80.25"), D("-70"))
    assert result["totals"][0]["net"] == D("1730")


def test_cashflow_by_category_and_per_currency():
    rows = [
        row("a", "2026-03-01", "-10", primary="FOOD_AND_DRINK"),
        row("b", "2026-03-01", "-20", primary="FOOD_AND_DRINK", currency="EUR"),
        row("c", "2026-03-01", "-5"),
    ]
    result = cashflow(
        rows, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), group_by="category"
    )
    keys = [(g["category"], g["currency"], g["spending"]) for g in result["groups"]]
    assert keys == [
        ("FOOD_AND_DRINK", "EUR", D("20")),
        ("FOOD_AND_DRINK", "USD", D("10")),
        ("UNCATEGORIZED", "USD", D("5")),
    ]
    assert [t["currency"] for t in result["totals"]] == ["EUR", "USD"]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"group_by": "week"}, "group_by"),
        ({"start": dt.date(2026, 2, 1), "end": dt.date(2026, 1, 1)}, "after"),
    ],
)
def test_cashflow_bad_input(kwargs, message):
    args = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 2, 1), **kwargs}
    with pytest.raises(ValueError, match=message):
        cashflow([], **args)


def budget(**extra):
    return {
        "category": "FOOD_AND_DRINK",
        "level": "primary",
        "amount": D("400"),
        "currency": "USD",
        "rollover": False,
        "start_month": dt.date(2026, 1, 1),
        **extra,
    }


def test_budget_progress_spent_remaining_percent_and_thresholds():
    rows = [
        row("a", "2026-03-03", "-250", primary="FOOD_AND_DRINK"),
        row("b", "2026-03-09", "-80", primary="FOOD_AND_DRINK"),
        row("refund", "2026-03-10", "10", primary="FOOD_AND_DRINK"),
        row("other", "2026-03-10", "-999", primary="TRAVEL"),
        row("eur", "2026-03-10", "-999", primary="FOOD_AND_DRINK", currency="EUR"),
    ]
    got = progress(budget(), rows, dt.date(2026, 3, 15))
    assert got["spent"] == D("320") and got["remaining"] == D("80")
    assert got["percent"] == D("80.00") and got["rollover_in"] == 0
    assert crossed_thresholds(got) == [80]
    rows.append(row("c", "2026-03-20", "-80", primary="FOOD_AND_DRINK"))
    assert crossed_thresholds(progress(budget(), rows, dt.date(2026, 3, 1))) == [80, 100]


def test_rollover_carries_only_what_was_left():
    rows = [
        row("jan", "2026-01-10", "-300", detailed="FOOD_AND_DRINK_GROCERIES"),
        row("feb", "2026-02-10", "-600", detailed="FOOD_AND_DRINK_GROCERIES"),
        row("mar", "2026-03-10", "-100", detailed="FOOD_AND_DRINK_GROCERIES"),
    ]
    b = budget(category="FOOD_AND_DRINK_GROCERIES", level="detailed", rollover=True)
    feb = progress(b, rows, dt.date(2026, 2, 1))
    assert feb["rollover_in"] == D("100") and feb["available"] == D("500")
    mar = progress(b, rows, dt.date(2026, 3, 1))
    assert mar["rollover_in"] == 0 and mar["remaining"] == D("300")
    no_roll = progress(
        budget(category="FOOD_AND_DRINK_GROCERIES", level="detailed"), rows, dt.date(2026, 2, 1)
    )
    assert no_roll["rollover_in"] == 0 and no_roll["percent"] == D("150.00")


def test_transfers_never_count_against_a_budget():
    rows = [row("x", "2026-03-03", "-500", primary="FOOD_AND_DRINK")]
    assert progress(budget(), rows, dt.date(2026, 3, 1), {"x"})["spent"] == 0


@pytest.mark.parametrize(
    "extra,message",
    [({"amount": D("0")}, "positive"), ({"amount": 5.0}, "positive"), ({"level": "x"}, "level")],
)
def test_bad_budgets_are_refused(extra, message):
    with pytest.raises(ValueError, match=message):
        progress(budget(**extra), [], dt.date(2026, 3, 1))


def test_add_months_crosses_years():
    assert add_months(dt.date(2026, 11, 1), 3) == dt.date(2027, 2, 1)
    assert add_months(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
