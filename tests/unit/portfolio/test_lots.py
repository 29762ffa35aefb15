"""Lots from transactions: FIFO and specific relief, holding periods, wash sales, reconciliation."""

import datetime as dt
from decimal import Decimal as D

import pytest

from portfolio import reference
from portfolio.errors import InvalidInput
from portfolio.lots import (
    AccountType,
    InvestmentTransaction,
    ReportedHolding,
    TxKind,
    build_lots,
    is_long_term,
    reconcile,
)

ACCTS = {
    "tax": AccountType.TAXABLE,
    "ira": AccountType.TRADITIONAL_IRA,
    "roth": AccountType.ROTH_IRA,
}
d = dt.date


def tx(id, kind, qty, price, date, acct="tax", ticker="VTI", fees="0", relief=None):
    return InvestmentTransaction(
        id, acct, ticker, date, TxKind(kind), D(qty), D(price), D(fees), relief
    )


def test_buys_open_lots_and_fifo_relief():
    book = build_lots(
        [
            tx("b1", "buy", "10", "100", d(2022, 1, 3), fees="1"),
            tx("b2", "buy", "5", "120", d(2022, 6, 1)),
            tx("s1", "sell", "12", "130", d(2023, 3, 1)),
        ],
        ACCTS,
    )
    open_lots = book.open_lots()
    assert [(lot.id, lot.quantity) for lot in open_lots] == [("b2", D(3))]
    assert open_lots[0].cost_basis == D(360)
    assert [(r.lot_id, r.quantity, r.long_term) for r in book.realized] == [
        ("b1", D(10), True),
        ("b2", D(2), False),
    ]
    assert book.realized[0].cost_basis == D(1001)  # fees are in the basis
    assert book.realized[0].gain == D(1300) - D(1001)


def test_specific_lot_relief_and_partial_lot():
    book = build_lots(
        [
            tx("b1", "buy", "10", "100", d(2022, 1, 3)),
            tx("b2", "buy", "10", "150", d(2022, 2, 3)),
            tx("s1", "sell", "4", "140", d(2022, 3, 1), relief=(("b2", D(4)),)),
        ],
        ACCTS,
    )
    assert {lot.id: lot.quantity for lot in book.open_lots()} == {"b1": D(10), "b2": D(6)}
    assert book.realized[0].gain == D(4) * (D(140) - D(150))
    assert next(lot for lot in book.open_lots() if lot.id == "b2").cost_basis == D(900)


def test_dividend_reinvestment_is_a_purchase():
    book = build_lots(
        [
            tx("b1", "buy", "10", "100", d(2023, 1, 3)),
            tx("dr", "dividend_reinvest", "0.25", "104", d(2023, 3, 20)),
        ],
        ACCTS,
    )
    assert [lot.id for lot in book.open_lots()] == ["b1", "dr"]
    assert book.open_lots()[1].cost_basis == D("26.00")


def test_holding_period_edges():
    assert not is_long_term(d(2023, 3, 10), d(2024, 3, 10))  # exactly one year: short
    assert is_long_term(d(2023, 3, 10), d(2024, 3, 11))  # more than one year: long
    assert not is_long_term(d(2024, 2, 29), d(2025, 2, 28))
    assert is_long_term(d(2024, 2, 29), d(2025, 3, 1))


def test_overselling_and_bad_quantities_are_refused():
    with pytest.raises(InvalidInput, match="only 10 are held"):
        build_lots(
            [
                tx("b1", "buy", "10", "100", d(2023, 1, 3)),
                tx("s1", "sell", "11", "100", d(2023, 2, 3)),
            ],
            ACCTS,
        )
    with pytest.raises(InvalidInput, match="quantity must be positive"):
        build_lots([tx("b1", "buy", "-1", "100", d(2023, 1, 3))], ACCTS)
    with pytest.raises(InvalidInput, match="unknown account"):
        build_lots([tx("b1", "buy", "1", "100", d(2023, 1, 3), acct="nope")], ACCTS)
    with pytest.raises(InvalidInput, match="add up"):
        build_lots(
            [
                tx("b1", "buy", "5", "1", d(2023, 1, 3)),
                tx("s", "sell", "3", "1", d(2023, 1, 4), relief=(("b1", D(2)),)),
            ],
            ACCTS,
        )


def test_wash_sale_in_history_moves_loss_into_replacement_basis():
    book = build_lots(
        [
            tx("b1", "buy", "10", "100", d(2023, 1, 3)),
            tx("s1", "sell", "10", "80", d(2023, 6, 1)),  # loss 200
            tx("b2", "buy", "10", "82", d(2023, 6, 20)),  # 19 days later: wash sale
        ],
        ACCTS,
    )
    rg = book.realized[0]
    assert rg.wash_sale_disallowed == D(200)
    assert rg.gain == 0  # reportable loss disallowed
    lot = book.open_lots()[0]
    assert lot.cost_basis == D(820) + D(200)
    assert lot.acquired == d(2023, 6, 20) - dt.timedelta(days=(d(2023, 6, 1) - d(2023, 1, 3)).days)
    assert book.permanently_disallowed == 0


def test_wash_sale_window_edge_day_30_vs_day_31():
    base = [
        tx("b1", "buy", "10", "100", d(2023, 1, 3)),
        tx("s1", "sell", "10", "80", d(2023, 6, 1)),
    ]
    on_30 = build_lots(base + [tx("b2", "buy", "10", "82", d(2023, 7, 1))], ACCTS)
    on_31 = build_lots(base + [tx("b2", "buy", "10", "82", d(2023, 7, 2))], ACCTS)
    assert on_30.realized[0].wash_sale_disallowed == D(200)
    assert on_31.realized[0].wash_sale_disallowed == 0
    before_30 = build_lots(
        [tx("b0", "buy", "10", "100", d(2023, 1, 3)), tx("b1", "buy", "10", "90", d(2023, 5, 2)),
         tx("s1", "sell", "10", "80", d(2023, 6, 1), relief=(("b0", D(10)),))], ACCTS)  # fmt: skip
    assert before_30.realized[0].wash_sale_disallowed == D(200)


def test_ira_purchase_disallows_loss_permanently_and_partial_match():
    book = build_lots(
        [
            tx("b1", "buy", "10", "100", d(2023, 1, 3)),
            tx("s1", "sell", "10", "80", d(2023, 6, 1)),
            tx("ira1", "buy", "4", "81", d(2023, 6, 10), acct="ira"),
        ],
        ACCTS,
    )
    assert book.realized[0].wash_sale_disallowed == D(80)  # 4 of 10 shares matched
    assert book.permanently_disallowed == D(80)
    assert book.open_lots("ira")[0].cost_basis == D(324)  # IRA basis unchanged


def test_substantially_identical_tickers_trigger_wash_sale():
    ref = reference.load()
    book = build_lots(
        [
            tx("b1", "buy", "10", "400", d(2023, 1, 3), ticker="VOO"),
            tx("s1", "sell", "10", "380", d(2023, 6, 1), ticker="VOO"),
            tx("b2", "buy", "10", "381", d(2023, 6, 5), ticker="IVV"),
        ],  # fmt: skip
        ACCTS,
        identical=ref.identical_to,
    )
    assert book.realized[0].wash_sale_disallowed == D(200)
    # A different index (VTI vs VOO) is not substantially identical:
    book2 = build_lots(
        [
            tx("b1", "buy", "10", "400", d(2023, 1, 3), ticker="VOO"),
            tx("s1", "sell", "10", "380", d(2023, 6, 1), ticker="VOO"),
            tx("b2", "buy", "10", "200", d(2023, 6, 5), ticker="VTI"),
        ],  # fmt: skip
        ACCTS,
        identical=ref.identical_to,
    )
    assert book2.realized[0].wash_sale_disallowed == 0


def test_loss_inside_ira_is_not_a_wash_sale_issue():
    book = build_lots(
        [
            tx("b1", "buy", "10", "100", d(2023, 1, 3), acct="ira"),
            tx("s1", "sell", "10", "80", d(2023, 6, 1), acct="ira"),
            tx("b2", "buy", "10", "82", d(2023, 6, 2), acct="tax"),
        ],  # fmt: skip
        ACCTS,
    )
    assert book.realized[0].wash_sale_disallowed == 0


def test_reconcile_flags_mismatches_both_ways():
    book = build_lots(
        [
            tx("b1", "buy", "10", "100", d(2023, 1, 3)),
            tx("b2", "buy", "3", "50", d(2023, 1, 3), ticker="BND"),
        ],
        ACCTS,
    )
    out = reconcile(
        book,
        [
            ReportedHolding("tax", "VTI", D("10"), D("1000.00")),
            ReportedHolding("tax", "SCHB", D("2"), None),
        ],
    )
    assert {(m.ticker, m.field, m.ours, m.reported) for m in out} == {
        ("SCHB", "quantity", D(0), D(2)),
        ("BND", "quantity", D(3), D(0)),
    }
    out = reconcile(
        book,
        [
            ReportedHolding("tax", "VTI", D("10"), D("990")),
            ReportedHolding("tax", "BND", D("3"), D("150")),
        ],
    )
    assert [(m.ticker, m.field, m.difference) for m in out] == [("VTI", "cost_basis", D(10))]
    assert (
        reconcile(
            book,
            [
                ReportedHolding("tax", "VTI", D("10"), D("1000")),
                ReportedHolding("tax", "BND", D("3")),
            ],
        )
        == []
    )


def test_later_sale_of_replacement_lot_uses_adjusted_basis():
    book = build_lots(
        [
            tx("b1", "buy", "10", "100", d(2023, 1, 3)),
            tx("s1", "sell", "10", "80", d(2023, 6, 1)),  # loss 200, washed by b2
            tx("b2", "buy", "10", "82", d(2023, 6, 20)),
            tx("s2", "sell", "10", "90", d(2023, 9, 1)),  # 900 - (820 + 200) = -120
        ],
        ACCTS,
    )
    first, second = book.realized
    assert first.wash_sale_disallowed == D(200)
    assert second.cost_basis == D(1020) and second.gain == D(-120)
    # holding period tacked on: Jan 3 -> Jun 1 (149 days) before Jun 20
    assert second.acquired == d(2023, 6, 20) - dt.timedelta(days=149)


def test_shares_sold_in_the_same_sale_are_not_replacements():
    book = build_lots(
        [
            tx("b1", "buy", "10", "100", d(2023, 1, 3)),
            tx("b2", "buy", "5", "90", d(2023, 5, 20)),
            tx("s1", "sell", "15", "80", d(2023, 6, 1)),  # both lots sold: nothing replaces them
        ],
        ACCTS,
    )
    assert all(r.wash_sale_disallowed == 0 for r in book.realized)


def test_partly_matched_replacement_lot_is_split_and_only_matched_shares_adjusted():
    book = build_lots(
        [
            tx("b1", "buy", "4", "100", d(2023, 1, 3)),
            tx("s1", "sell", "4", "80", d(2023, 6, 1)),  # loss 80 on 4 shares
            tx("b2", "buy", "10", "82", d(2023, 6, 20)),  # replaces 4 of its 10 shares
        ],
        ACCTS,
    )
    assert book.realized[0].wash_sale_disallowed == D(80)
    lots = {lot.id: lot for lot in book.open_lots()}
    assert set(lots) == {"b2", "b2+w1"}
    rest, washed = lots["b2"], lots["b2+w1"]
    assert (rest.quantity, rest.cost_basis, rest.acquired) == (D(6), D(492), d(2023, 6, 20))
    assert (washed.quantity, washed.cost_basis) == (D(4), D(328) + D(80))
    assert washed.acquired == d(2023, 6, 20) - dt.timedelta(days=149)  # Jan 3 -> Jun 1 tacked on
    assert washed.opened_by == "b2"  # still the same purchase (TLH's own-purchase rule)
    # one year after the purchase only the washed shares are long-term
    on = d(2024, 2, 1)
    assert washed.is_long_term(on) and not rest.is_long_term(on)
    # total basis is conserved: 820 paid + 80 deferred
    assert sum(lot.cost_basis for lot in lots.values()) == D(900)


def test_replacement_bought_before_the_sale_is_split_too():
    book = build_lots(
        [
            tx("b0", "buy", "3", "100", d(2023, 1, 3)),
            tx("b1", "buy", "10", "90", d(2023, 5, 20)),  # 12 days before the sale
            tx("s1", "sell", "3", "80", d(2023, 6, 1), relief=(("b0", D(3)),)),  # loss 60
        ],
        ACCTS,
    )
    lots = {lot.id: lot for lot in book.open_lots()}
    assert (lots["b1"].quantity, lots["b1"].cost_basis) == (D(7), D(630))
    assert (lots["b1+w1"].quantity, lots["b1+w1"].cost_basis) == (D(3), D(270) + D(60))
