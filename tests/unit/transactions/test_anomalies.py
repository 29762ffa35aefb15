import datetime as dt
from decimal import Decimal

from transactions.anomalies import Scorer, combine, robust_z, score_new

D = Decimal
BASE = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def txn(
    id,
    amount,
    *,
    minutes=0,
    days=0,
    merchant="grocer",
    category="FOOD_AND_DRINK_GROCERIES",
    country="home",
    time_known=True,
    dismissed=False,
):
    at = BASE + dt.timedelta(days=days, minutes=minutes)
    return {
        "id": id,
        "amount": D(amount),
        "at": at,
        "time_known": time_known,
        "hour": at.hour if time_known else None,
        "merchant": merchant,
        "category": category,
        "country": country,
        "dismissed": dismissed,
    }


def history():
    rows = []
    for i in range(30):
        rows.append(txn(f"g{i}", f"-{50 + (i % 7) * 3}", days=-60 + 2 * i, minutes=(i % 5) * 60))
    for i in range(10):
        rows.append(
            txn(
                f"c{i}",
                "-4.50",
                days=-40 + 3 * i,
                merchant="cafe",
                category="FOOD_AND_DRINK_COFFEE",
            )
        )
    return rows


def reasons(new, hist=None):
    return score_new(history() if hist is None else hist, [new])[new["id"]]["reasons"]


def test_robust_z_uses_median_and_mad():
    assert round(robust_z(10, [1, 2, 3, 4, 5]), 4) == round(0.6745 * 7 / 1, 4)
    assert robust_z(3, [3, 3, 3]) == 0  # MAD 0 falls back, no division by zero


def test_ordinary_purchase_is_not_flagged():
    assert reasons(txn("n", "-58", days=1)) == []


def test_large_for_merchant_and_category():
    got = reasons(txn("n", "-400", days=1))
    assert "large_for_merchant" in got and "large_for_category" in got


def test_new_merchant_with_a_large_amount():
    got = reasons(txn("n", "-900", days=1, merchant="jeweller", category=None))
    assert got == ["new_merchant_large"]
    assert reasons(txn("n", "-30", days=1, merchant="bakery", category=None)) == []


def test_duplicate_charge_within_minutes():
    first = txn("d1", "-61", days=1)
    second = txn("d2", "-61", days=1, minutes=3)
    result = score_new(history(), [first, second])
    assert result["d1"]["reasons"] == [] and result["d2"]["reasons"] == ["duplicate_charge"]
    far = txn("d3", "-61", days=1, minutes=120)
    assert "duplicate_charge" not in score_new(history(), [first, far])["d3"]["reasons"]


def test_card_testing_many_tiny_charges_in_an_hour():
    tiny = [
        txn(f"t{i}", "-0.99", days=1, minutes=i * 5, merchant=f"m{i}", category=None)
        for i in range(3)
    ]
    result = score_new(history(), tiny)
    assert "card_testing" in result["t2"]["reasons"]
    assert "card_testing" not in result["t0"]["reasons"]


def test_foreign_country_and_learning_from_feedback():
    abroad = txn("f", "-40", days=1, merchant="cafe-abroad", category=None, country="fr")
    assert "foreign_location" in reasons(abroad)
    fine = dict(abroad, id="f0", dismissed=True, at=BASE)
    assert "foreign_location" not in reasons(dict(abroad, id="f2"), history() + [fine])


def test_odd_hour_for_this_user():
    night = txn("o", "-55", days=1, minutes=-12 * 60 + 3 * 60)  # 03:00
    assert "odd_hour" in reasons(night)
    assert "odd_hour" not in reasons(dict(night, time_known=False, hour=None))


def test_marking_a_large_charge_fine_teaches_the_merchant_range():
    big = txn("b1", "-400", days=1)
    assert "large_for_merchant" in reasons(big)
    fine = dict(big, id="b0", dismissed=True, at=BASE - dt.timedelta(days=1))
    assert reasons(txn("b2", "-420", days=2), history() + [fine]) == []
    assert "large_for_merchant" in reasons(txn("b3", "-900", days=2), history() + [fine])


def test_inflows_are_never_flagged_and_scores_combine():
    assert Scorer(history()).score(txn("in", "5000", days=1))["score"] == 0.0
    assert combine(["odd_hour"]) == 0.3
    assert combine(["odd_hour", "duplicate_charge"]) > combine(["duplicate_charge"])
