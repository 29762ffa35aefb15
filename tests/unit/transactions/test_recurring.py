import datetime as dt
import random
from decimal import Decimal

from transactions.recurring import detect_recurring, fit_cadence

D = Decimal


def series(merchant, start, step_days, n, amount, *, jitter=0, seed=1, skip=(), months=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        if i in skip:
            continue
        if months:
            index = start.month - 1 + i * months
            day = dt.date(start.year + index // 12, index % 12 + 1, min(start.day, 28))
        else:
            day = start + dt.timedelta(days=i * step_days)
        day += dt.timedelta(days=rng.randint(-jitter, jitter))
        rows.append(
            {
                "id": f"{merchant}-{i}",
                "date": day,
                "amount": D(amount),
                "currency": "USD",
                "merchant": merchant,
            }
        )
    return rows


def by_merchant(found):
    return {s["merchant"]: s for s in found}


def test_monthly_with_jitter_and_one_missing_is_found_with_next_date():
    rows = series("netflix", dt.date(2025, 6, 15), 0, 12, "-15.49", jitter=2, skip=(5,), months=1)
    found = by_merchant(detect_recurring(rows, as_of=dt.date(2026, 5, 20)))
    s = found["netflix"]
    assert s["cadence"] == "monthly" and s["status"] == "active" and s["count"] == 11
    assert s["predicted_amount"] == D("-15.49") and s["direction"] == "out"
    assert s["predicted_next_date"].month == 6 and s["predicted_next_date"].year == 2026
    assert s["price_change"] is None


def test_each_cadence_is_recognised():
    start = dt.date(2024, 1, 3)
    rows = (
        series("gym", start, 7, 10, "-12", jitter=1)
        + series("payroll", start, 14, 8, "2100.00", jitter=1)
        + series("water", start, 0, 5, "-60", months=3)
        + series("domain", start, 0, 3, "-20", months=12)
    )
    found = by_merchant(detect_recurring(rows, as_of=dt.date(2026, 2, 1)))
    assert found["gym"]["cadence"] == "weekly"
    assert found["payroll"]["cadence"] == "biweekly" and found["payroll"]["direction"] == "in"
    assert found["water"]["cadence"] == "quarterly"
    assert found["domain"]["cadence"] == "yearly"


def test_price_increase_is_reported():
    rows = series("spotify", dt.date(2025, 1, 10), 0, 10, "-9.99", months=1)
    for r in rows[-3:]:
        r["amount"] = D("-11.99")
    s = detect_recurring(rows, as_of=dt.date(2025, 10, 15))[0]
    change = s["price_change"]
    assert change["direction"] == "increase"
    assert (change["previous_amount"], change["new_amount"]) == (D("9.99"), D("11.99"))
    assert change["since"] == rows[-3]["date"] and change["percent"] == D("20.02")
    assert s["predicted_amount"] == D("-11.99")


def test_series_that_stopped_or_is_late():
    rows = series("hulu", dt.date(2025, 1, 5), 0, 6, "-7.99", months=1)
    assert detect_recurring(rows, as_of=dt.date(2025, 7, 8))[0]["status"] == "active"
    assert detect_recurring(rows, as_of=dt.date(2025, 7, 20))[0]["status"] == "late"
    assert detect_recurring(rows, as_of=dt.date(2025, 9, 30))[0]["status"] == "stopped"


def test_irregular_or_wildly_varying_spending_is_not_recurring():
    rng = random.Random(7)
    day = dt.date(2025, 1, 1)
    shop = []
    for i in range(15):
        day += dt.timedelta(days=rng.randint(1, 20))
        shop.append(
            {
                "id": f"s{i}",
                "date": day,
                "amount": D("-20"),
                "currency": "USD",
                "merchant": "corner shop",
            }
        )
    varying = series("grocer", dt.date(2025, 1, 1), 7, 10, "-50")
    for i, r in enumerate(varying):
        r["amount"] = D(-20 - 30 * (i % 3))
    two = series("once", dt.date(2025, 1, 1), 30, 2, "-10")
    assert detect_recurring(shop + varying + two, as_of=dt.date(2025, 6, 1)) == []


def test_fit_cadence_edge_cases():
    assert fit_cadence([dt.date(2025, 1, 1)]) is None
    assert fit_cadence([dt.date(2025, 1, 1), dt.date(2025, 1, 2), dt.date(2025, 1, 3)]) is None
