"""Money that moves on a schedule: pay, housing, loans, utilities, subscriptions, savings,
investing transfers and credit-card statement payments (all with both legs where both
accounts belong to the Item)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from .ledger import CashFlow, LedgerBuilder
from .merchants import EMPLOYERS, LANDLORDS, PHONE_AND_INTERNET, SUBSCRIPTIONS, UTILITIES
from .money import cents, random_amount


def months_between(start: date, end: date) -> list[tuple[int, int]]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def day_in(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def business_day_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def amortized_payment(principal: Decimal, annual_rate: Decimal, months: int) -> Decimal:
    """Level monthly payment of a fully amortising loan: P r / (1 - (1 + r)^-n)."""
    if principal <= 0 or months <= 0 or annual_rate <= 0:
        raise ValueError("principal, rate and term must be positive")
    rate = annual_rate / 12
    return cents(principal * rate / (1 - (1 + rate) ** -months))


def add_payroll(b: LedgerBuilder, start: date, end: date, total_net: Decimal) -> None:
    """Semi-monthly pay (15th and month end, moved back to a business day) with a 3% raise each
    January, sized so that the whole period's pay comes to ``total_net``."""
    if total_net <= 0:
        raise ValueError("total net pay must be positive")
    employer = b.rng.choice(EMPLOYERS)
    paydays: list[tuple[date, Decimal]] = []
    factor = Decimal(1)
    for year, month in months_between(start, end):
        if month == 1 and year > start.year:
            factor *= Decimal("1.03")
        for pay_day in (15, calendar.monthrange(year, month)[1]):
            day = business_day_on_or_before(date(year, month, pay_day))
            if start <= day <= end:
                paydays.append((day, factor))
    base = total_net / sum((f for _, f in paydays), Decimal(0))
    for day, factor in paydays:
        extra = random_amount(b.rng, 0, 60) if b.rng.random() < 0.2 else Decimal(0)
        pay = -(cents(base * factor) + extra)
        b.ach("checking", day, employer, "PAYROLL", pay, payer=employer)


def add_housing_and_loan(b: LedgerBuilder, start: date, end: date) -> Decimal:
    """Mortgage (with its loan legs) or rent plus an auto/student loan.

    Returns the loan's opening principal."""
    rng, kind = b.rng, b.institution.loan_kind
    terms = {
        "mortgage": (310_000, 540_000, "0.0625", 360),
        "auto": (18_000, 32_000, "0.069", 60),
        "student": (22_000, 48_000, "0.055", 120),
    }
    low, high, rate_text, months = terms[kind]
    principal = cents(random_amount(rng, low, high))
    rate = Decimal(rate_text)
    payment = amortized_payment(principal, rate, months)
    balance = principal
    suffix = "HOME LOANS" if kind == "mortgage" else "LOAN SVC"
    lender = f"{b.institution.name.split()[-2].upper()} {suffix}"
    rent = cents(random_amount(rng, 1650, 3100)) if kind != "mortgage" else None
    landlord = rng.choice(LANDLORDS)
    for year, month in months_between(start, end):
        if rent is not None:
            rent_day = day_in(year, month, 1)
            if start <= rent_day <= end:
                if month == 8:
                    rent = cents(rent * Decimal("1.04"))  # lease renewal
                b.ach("checking", rent_day, landlord, "RENT PMT", rent, payee=landlord)
        pay_day = day_in(year, month, 1 if kind == "mortgage" else 5)
        if not start <= pay_day <= end:
            continue
        interest = cents(balance * rate / 12)
        b.ach("checking", pay_day, lender, "LOAN PMT", payment, payee=lender)
        b.add("loan", -payment, pay_day, "PAYMENT - THANK YOU", payment_channel="other")
        b.add("loan", interest, pay_day, "INTEREST CHARGED", payment_channel="other")
        balance += interest - payment
    return principal


def add_utilities(b: LedgerBuilder, start: date, end: date) -> None:
    bills = UTILITIES[b.institution.home.region] + PHONE_AND_INTERNET
    for company, desc, low, high, pay_day in bills:
        for year, month in months_between(start, end):
            day = day_in(year, month, pay_day)
            if start <= day <= end:
                seasonal = Decimal("1.35") if month in (1, 2, 7, 8, 12) and low < 79 else 1
                amount = cents(random_amount(b.rng, low, high) * seasonal)
                b.ach("checking", day, company, desc, amount, payee=company)


def add_subscriptions(b: LedgerBuilder, start: date, end: date) -> None:
    chosen = b.rng.sample(SUBSCRIPTIONS, 5)
    for descriptor, merchant, amount, pay_day, website in chosen:
        price = Decimal(amount)
        for year, month in months_between(start, end):
            day = day_in(year, month, pay_day)
            if start <= day <= end:
                if merchant == "Netflix" and (year, month) >= (start.year + 1, start.month):
                    price = Decimal("17.99")  # price rise a year in
                b.card_purchase(
                    "credit",
                    day,
                    descriptor,
                    price,
                    merchant_name=merchant,
                    channel="online",
                    city=None,
                    region=None,
                    store=None,
                    website=website,
                    lag=1,
                )


def add_savings(b: LedgerBuilder, start: date, end: date, opening: Decimal) -> None:
    """Monthly transfer to savings (both legs) and monthly interest at the account's APY."""
    apy = b.accounts["savings"].apy or Decimal(0)
    monthly = cents(random_amount(b.rng, 250, 900))
    balance = opening
    for year, month in months_between(start, end):
        day = day_in(year, month, 16)
        if start <= day <= end:
            b.own_transfer(day, "checking", "savings", monthly)
            balance += monthly
        last = day_in(year, month, 31)
        if start <= last <= end:
            interest = cents(balance * apy / 100 / 12)
            if interest > 0:
                b.add("savings", -interest, last, "INTEREST PAYMENT", payment_channel="other")
                balance += interest
        if month == 4 and start <= day_in(year, month, 20) <= end:
            # a yearly withdrawal from savings back to checking (tax bill season)
            amount = cents(min(balance / 3, random_amount(b.rng, 1500, 4000)))
            b.own_transfer(day_in(year, month, 20), "savings", "checking", amount)
            balance -= amount


def add_investing_transfers(b: LedgerBuilder, start: date, end: date) -> None:
    brokerage = cents(random_amount(b.rng, 400, 1500))
    ira = Decimal("500.00")
    company = f"{b.institution.name.split()[-2].upper()} INVEST"
    for year, month in months_between(start, end):
        for role, day_of_month, amount, desc in (
            ("brokerage", 2, brokerage, "BROKERAGE"),
            ("ira", 3, ira, "IRA CONTRIB"),
        ):
            day = day_in(year, month, day_of_month)
            if start <= day <= end:
                b.ach("checking", day, company, desc, amount, payee=company)
                name = (
                    "ELECTRONIC FUNDS TRANSFER RECEIVED"
                    if role == "brokerage"
                    else f"CONTRIBUTION {year} TAX YEAR"
                )
                b.cash_flows.append(CashFlow(day, role, amount, name))


def add_card_payments(b: LedgerBuilder, start: date, end: date, opening_owed: Decimal) -> None:
    """Pay the statement balance (closing on the 27th) on the 22nd of the next month, both legs."""
    card_id = b.accounts["credit"].account_id
    card_entries = sorted(
        (e for e in b.entries if e.account_id == card_id and e.post_date is not None),
        key=lambda e: e.post_date,
    )
    paid = Decimal(0)
    short_name = b.institution.name.split()[-2].upper()
    for year, month in months_between(start, end):
        close = day_in(year, month, 27)
        pay_day = close + timedelta(days=25)
        if not start <= pay_day <= end:
            continue
        owed = (
            opening_owed
            - paid
            + sum((e.amount for e in card_entries if e.post_date <= close), Decimal(0))
        )
        if owed <= 0:
            continue
        b.ach(
            "checking",
            pay_day,
            f"{short_name} CARD",
            "EPAY",
            owed,
            payee=f"{short_name} CARD {b.accounts['credit'].mask}",
        )
        b.add("credit", -owed, pay_day, "AUTOMATIC PAYMENT - THANK YOU", payment_channel="other")
        paid += owed
