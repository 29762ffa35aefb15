"""Tax-loss harvesting rules, one by one."""

import datetime as dt
from decimal import Decimal as D

import pytest

from portfolio.errors import InvalidInput
from portfolio.lots import AccountType, InvestmentTransaction, Lot, RealizedGain, TxKind
from portfolio.tlh import TaxRates, TLHSettings, capital_gains_tax, choose_replacement, plan_harvest

TODAY = dt.date(2024, 6, 15)
ACCTS = {"tax": AccountType.TAXABLE, "tax2": AccountType.TAXABLE, "ira": AccountType.TRADITIONAL_IRA,
         "roth": AccountType.ROTH_IRA, "hsa": AccountType.HSA}  # fmt: skip
RATES = TaxRates(short_term=D("0.35"), long_term=D("0.15"))
NO_COST = TLHSettings(min_loss=D(100), min_loss_fraction=D("0.03"), cost_fraction=D(0))


def lot(id, ticker="VTI", qty="10", basis="2500", acquired=dt.date(2024, 1, 2), acct="tax"):
    return Lot(id, acct, ticker, D(qty), D(basis), acquired, opened_by=id)


def buy(id, date, ticker="VTI", acct="tax", kind="buy", qty="1"):
    return InvestmentTransaction(id, acct, ticker, date, TxKind(kind), D(qty), D(200))


PRICES = {"VTI": D(200), "SCHB": D(50), "ITOT": D(100), "VOO": D(400), "IVV": D(400), "BND": D(70)}


def plan(lots, **kw):
    kw.setdefault("settings", NO_COST)
    return plan_harvest(lots, PRICES, ACCTS, today=TODAY, rates=RATES, **kw)


def test_harvests_a_taxable_loss_and_buys_the_secondary_etf():
    p = plan([lot("L1")])  # basis 2500, value 2000: loss 500
    (h,) = p.harvests
    assert (h.lot_id, h.loss, h.long_term, h.replacement) == ("L1", D(500), False, "SCHB")
    assert p.do_not_buy["VTI"] == TODAY + dt.timedelta(days=31)
    assert p.current_year_saving == D("175.00")  # 500 x 35% against ordinary income
    assert p.carryforward_added == 0


def test_threshold_is_max_of_dollars_and_percent_net_of_costs():
    small = lot("L1", basis="2090")  # loss 90 < $100
    assert plan([small]).harvests == [] and "below threshold" in plan([small]).skipped[0].reason
    pct = TLHSettings(min_loss=D(10), min_loss_fraction=D("0.05"), cost_fraction=D(0))
    assert plan([lot("L2", basis="2090")], settings=pct).harvests == []  # 90 < 5% of 2000
    assert len(plan([lot("L3", basis="2101")], settings=pct).harvests) == 1  # 101 >= 100
    costly = TLHSettings(
        min_loss=D(100), min_loss_fraction=D(0), cost_per_trade=D(5), cost_fraction=D(0)
    )
    assert plan([lot("L4", basis="2105")], settings=costly).harvests == []  # 105 - 10 < 100
    assert len(plan([lot("L5", basis="2110")], settings=costly).harvests) == 1


def test_gains_and_tax_advantaged_lots_are_never_harvested():
    p = plan(
        [lot("G", basis="1000"), lot("I", acct="ira"), lot("R", acct="roth"), lot("H", acct="hsa")]
    )
    assert p.harvests == []


@pytest.mark.parametrize(
    ("days", "blocked"), [(-31, False), (-30, True), (0, True), (30, True), (31, False)]
)
def test_wash_sale_window_edges(days, blocked):
    purchase = buy("p", TODAY + dt.timedelta(days=days))
    hist = [purchase] if days <= 0 else []
    upcoming = [purchase] if days > 0 else []
    p = plan([lot("L1")], history=hist, upcoming_purchases=upcoming)
    assert (p.harvests == []) is blocked
    if blocked:
        assert "wash sale" in p.skipped[0].reason


def test_purchase_in_ira_blocks_and_says_loss_would_be_permanent():
    p = plan([lot("L1")], history=[buy("p", TODAY - dt.timedelta(days=5), acct="ira")])
    assert p.harvests == []
    assert "permanently" in p.skipped[0].reason and "traditional_ira" in p.skipped[0].reason


def test_dividend_reinvestment_blocks():
    p = plan(
        [lot("L1")],
        history=[buy("dr", TODAY - dt.timedelta(days=10), kind="dividend_reinvest", qty="0.1")],
    )
    assert p.harvests == [] and "dividend reinvestment" in p.skipped[0].reason


def test_purchase_in_another_taxable_account_blocks():
    p = plan([lot("L1")], history=[buy("p", TODAY - dt.timedelta(days=3), acct="tax2")])
    assert p.harvests == [] and "tax2" in p.skipped[0].reason


def test_the_lots_own_purchase_does_not_block():
    own = buy("L1", dt.date(2024, 6, 1))  # lot bought 14 days ago, now at a loss
    p = plan([lot("L1", acquired=dt.date(2024, 6, 1))], history=[own])
    assert len(p.harvests) == 1


def test_substantially_identical_purchase_blocks_but_different_index_does_not():
    voo = lot("L1", ticker="VOO", basis="5000", qty="10")  # value 4000
    assert (
        plan([voo], history=[buy("p", TODAY - dt.timedelta(days=2), ticker="IVV")]).harvests == []
    )
    assert (
        len(plan([voo], history=[buy("p", TODAY - dt.timedelta(days=2), ticker="VTI")]).harvests)
        == 1
    )


def test_partial_lot_and_several_accounts():
    lots = [
        lot("A", qty="3.5", basis="900"),
        lot("B", acct="tax2", basis="2600"),
        lot("C", acct="ira"),
    ]
    p = plan(lots)
    assert {(h.lot_id, h.account_id, h.quantity, h.loss) for h in p.harvests} == {
        ("A", "tax", D("3.5"), D(200)),
        ("B", "tax2", D(10), D(600)),
    }


def test_replacement_falls_back_to_tertiary_when_secondary_recently_sold_at_loss():
    recent = RealizedGain(
        "x",
        "tax",
        "SCHB",
        D(1),
        D(40),
        D(60),
        dt.date(2023, 1, 1),
        TODAY - dt.timedelta(days=10),
        True,
        "s",
    )
    p = plan([lot("L1")], realized=[recent])
    assert p.harvests[0].replacement == "ITOT"
    old = RealizedGain(
        "x",
        "tax",
        "SCHB",
        D(1),
        D(40),
        D(60),
        dt.date(2023, 1, 1),
        TODAY - dt.timedelta(days=31),
        True,
        "s",
    )
    assert plan([lot("L1")], realized=[old]).harvests[0].replacement == "SCHB"


def test_choose_replacement_order():
    assert choose_replacement("VTI", lambda t: False) == "SCHB"
    assert choose_replacement("SCHB", lambda t: False) == "ITOT"
    assert choose_replacement("ITOT", lambda t: t == "VTI") == "SCHB"
    assert choose_replacement("VOO", lambda t: False) == "VTI"  # S&P 500 -> class primary
    assert choose_replacement("ZZZZ", lambda t: False) is None


def test_capital_gains_netting_offset_and_carryforward():
    # gains only
    assert capital_gains_tax(D(1000), D(2000), RATES).tax == D("650.00")
    # short loss nets against long gain
    assert capital_gains_tax(D(-500), D(2000), RATES).tax == D("225.00")
    # long loss nets against short gain
    assert capital_gains_tax(D(1000), D(-400), RATES).tax == D("210.00")
    # net loss: $3,000 against ordinary income, rest carried forward
    est = capital_gains_tax(D(-5000), D(1000), RATES)
    assert (est.tax, est.carryforward) == (D("-1050.00"), D(1000))
    mfs = TaxRates(D("0.35"), D("0.15"), ordinary_offset_limit=D(1500))
    assert capital_gains_tax(D(-5000), D(0), mfs).carryforward == D(3500)
    # prior carryforward applied
    assert capital_gains_tax(D(1000), D(0), RATES, carryforward=D(400)).tax == D("210.00")


def test_benefit_accounts_for_realised_gains_and_carryforward():
    p = plan([lot("L1", basis="10000")], realized_long=D(1000))  # loss 8000 ST vs 1000 LT gain
    # before: 1000 x 15% = 150 tax; after: net -7000 -> -3000 x 35% = -1050, carryforward 4000
    assert p.current_year_saving == D("1200.00")
    assert p.carryforward_added == D(4000)
    assert p.estimated_benefit == D("1800.00")


def test_bad_inputs():
    with pytest.raises(InvalidInput, match="tax rate"):
        TaxRates(D("1.2"), D("0.1"))
    with pytest.raises(InvalidInput, match="no price"):
        plan([lot("L1", ticker="QQQ")])
    with pytest.raises(InvalidInput, match="unknown account"):
        plan([lot("L1", acct="nope")])
    with pytest.raises(InvalidInput, match="negative"):
        TLHSettings(min_loss=D(-1))


def test_lots_harvested_together_are_not_each_others_replacements():
    old = lot("OLD", basis="2500")  # loss 500
    new = lot("NEW", qty="5", basis="1200", acquired=TODAY - dt.timedelta(days=10))  # loss 200
    history = [buy("OLD", dt.date(2024, 1, 2), qty="10"), buy("NEW", new.acquired, qty="5")]
    p = plan([old, new], history=history)
    assert {h.lot_id for h in p.harvests} == {"OLD", "NEW"}  # all VTI shares go: no wash sale
    # if the recent lot is NOT sold (its loss is below the threshold) it is a replacement
    small = lot("NEW", qty="5", basis="1050", acquired=TODAY - dt.timedelta(days=10))  # loss 50
    p = plan([old, small], history=history)
    assert p.harvests == []
    assert {s.lot_id for s in p.skipped} == {"OLD", "NEW"}
    reason = next(s.reason for s in p.skipped if s.lot_id == "OLD")
    assert reason.startswith("wash sale: purchase of VTI") and "10 days before" in reason


def test_a_purchase_split_by_a_wash_sale_blocks_until_all_its_shares_are_sold():
    """A recent purchase of 10 VTI was split (wash-sale adjustment) into NEW (6 shares, no loss)
    and NEW+w1 (4 shares, loss). Harvesting NEW+w1 leaves NEW's 6 shares held: they replace
    OLD's loss, so OLD is blocked; only when every share of the purchase goes is OLD free."""
    acquired = TODAY - dt.timedelta(days=10)
    old = lot("OLD", basis="2500")  # loss 500
    kept = Lot("NEW", "tax", "VTI", D(6), D("1150"), acquired, opened_by="NEW")  # no loss
    split = Lot("NEW+w1", "tax", "VTI", D(4), D("1000"), acquired, opened_by="NEW")  # loss 200
    history = [buy("OLD", dt.date(2024, 1, 2), qty="10"), buy("NEW", acquired, qty="10")]
    p = plan([old, kept, split], history=history)
    assert "OLD" not in {h.lot_id for h in p.harvests}
    assert next(s.reason for s in p.skipped if s.lot_id == "OLD").startswith("wash sale")
    losing = Lot("NEW", "tax", "VTI", D(6), D("1500"), acquired, opened_by="NEW")  # loss 300
    p = plan([old, losing, split], history=history)
    assert {h.lot_id for h in p.harvests} == {"OLD", "NEW", "NEW+w1"}
