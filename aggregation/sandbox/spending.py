"""Everyday spending and the irregular things real statements contain: ATM cash, cheques,
refunds, fees, purchases abroad and a few anomalies (a duplicate charge, a very large purchase,
card-testing micro-charges)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from . import bank_text
from .ledger import LedgerBuilder
from .merchants import CARD_TESTING, COMMON, FOREIGN, REGIONAL, Merchant
from .money import cents, random_amount
from .timeline import NULL_PAYMENT_META, Entry

STREETS = ("1ST ST & MARKET", "5TH AVE", "MAIN ST", "BROADWAY", "LAKE ST", "CONGRESS AVE")


def _days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


class Spender:
    def __init__(self, b: LedgerBuilder):
        self.b = b
        self.merchants: tuple[Merchant, ...] = COMMON + REGIONAL[b.institution.home.region]
        self.weights = [m.weight for m in self.merchants]
        self.stores = {
            m.descriptor: [str(b.rng.randint(100, 9999)) for _ in range(2)] for m in self.merchants
        }

    def purchase(self, day: date, merchant: Merchant, role: str | None = None) -> Entry:
        b, rng = self.b, self.b.rng
        role = role or ("credit" if rng.random() < 0.65 else "checking")
        home = b.institution.home
        store = rng.choice(self.stores[merchant.descriptor])
        descriptor = bank_text.fill_descriptor(merchant.descriptor, rng, home.city, store)
        amount = random_amount(rng, merchant.low, merchant.high)
        pending_amount = None
        if merchant.tip:
            pending_amount = amount
            amount = cents(amount * Decimal(rng.choice(("1.18", "1.20", "1.22"))))
        in_store = merchant.channel == "in store"
        entry = b.card_purchase(
            role,
            day,
            descriptor,
            amount,
            merchant_name=merchant.merchant_name,
            channel=merchant.channel,
            city=home.city if in_store else None,
            region=home.region if in_store else None,
            store=store if in_store else None,
            website=merchant.website,
            pending_amount=pending_amount,
        )
        if merchant.kind == "gas" and rng.random() < 0.3:
            # the pump's pre-authorisation: pending for a few days, then it disappears
            b.add(
                role,
                Decimal("1.00"),
                None,
                entry.name,
                payment_channel="in store",
                merchant_name=merchant.merchant_name,
                auth_date=day,
                auth_time=entry.auth_time,
                expire_on=day + timedelta(days=3),
                location=dict(entry.location),
            )
        if merchant.kind == "shopping" and rng.random() < 0.05:
            back = day + timedelta(days=rng.randint(5, 20))
            b.add(
                role,
                -amount,
                back,
                f"{entry.name} RETURN"[:60]
                if role == "credit"
                else bank_text.finish(b.style, f"PURCHASE RETURN {descriptor}"),
                payment_channel=merchant.channel,
                merchant_name=merchant.merchant_name,
                location=dict(entry.location),
            )
        return entry

    def everyday(self, start: date, end: date, per_day: float) -> None:
        rng = self.b.rng
        for day in _days(start, end):
            rate = per_day * (1.3 if day.weekday() >= 5 else 0.9)
            count = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
            for merchant in rng.choices(self.merchants, weights=self.weights, k=count):
                self.purchase(day, merchant)

    def cash_and_cheques(self, start: date, end: date) -> None:
        b, rng = self.b, self.b.rng
        cheque = rng.randint(1001, 1100)
        home = b.institution.home
        for day in _days(start, end):
            if rng.random() < 2 / 30:
                amount = Decimal(rng.choice((40, 60, 80, 100, 120, 200)))
                name = bank_text.atm_line(
                    b.style,
                    rng,
                    day,
                    b.accounts["checking"].mask,
                    rng.choice(STREETS),
                    home.city,
                    home.region,
                )
                b.add(
                    "checking",
                    amount,
                    day,
                    name,
                    payment_channel="in store",
                    location=b.location(home.city, home.region, None),
                )
                if rng.random() < 0.3:
                    b.add(
                        "checking",
                        Decimal("3.00"),
                        day,
                        bank_text.finish(b.style, "Non-Network ATM Fee"),
                        payment_channel="other",
                    )
            if rng.random() < 1 / 45:
                cheque += 1
                meta = dict(NULL_PAYMENT_META)
                meta.update(payment_method="check")
                b.add(
                    "checking",
                    random_amount(rng, 45, 650),
                    day,
                    bank_text.finish(b.style, f"CHECK {cheque}"),
                    check_number=str(cheque),
                    payment_meta=meta,
                )

    def fees(self, start: date, end: date) -> None:
        b, rng = self.b, self.b.rng
        span = (end - start).days
        for _ in range(2):
            day = start + timedelta(days=rng.randint(0, span))
            b.add(
                "checking",
                Decimal("12.00"),
                day,
                bank_text.finish(b.style, "Monthly Service Fee"),
                payment_channel="other",
            )
            b.add(
                "checking",
                Decimal("-12.00"),
                day + timedelta(days=3),
                bank_text.finish(b.style, "Monthly Service Fee Reversal"),
                payment_channel="other",
            )
        late = start + timedelta(days=rng.randint(0, span))
        b.add("credit", Decimal("29.00"), late, "LATE FEE", payment_channel="other")

    def trip_abroad(self, first_day: date, days: int) -> None:
        b, rng = self.b, self.b.rng
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            for _ in range(rng.randint(1, 3)):
                descriptor, merchant, currency, low, high, rate = rng.choice(FOREIGN)
                local = random_amount(rng, low, high)
                usd = cents(local * Decimal(rate))
                country = descriptor.split()[-1][:2]
                entry = b.card_purchase(
                    "credit",
                    day,
                    f"{descriptor} {local} {currency}",
                    usd,
                    merchant_name=merchant,
                    channel="in store",
                    city=None,
                    region=None,
                    store=None,
                )
                entry.location.update(country=country)
                b.add(
                    "credit",
                    cents(usd * Decimal("0.03")),
                    entry.post_date,
                    "FOREIGN TRANSACTION FEE",
                    payment_channel="other",
                )

    def anomalies(self, history_start: date, anchor: date, horizon_end: date) -> None:
        """One of each: duplicate charge, very large purchase, card testing, and a duplicate
        after the anchor that the bank removes two days after it posts."""
        b, rng = self.b, self.b.rng
        restaurants = [m for m in self.merchants if m.kind == "restaurant" and not m.tip]
        span = (anchor - history_start).days
        dup_day = history_start + timedelta(days=rng.randint(30, max(31, span - 30)))
        first = self.purchase(dup_day, rng.choice(restaurants), role="credit")
        b.add(
            "credit",
            first.amount,
            first.post_date,
            first.name,
            payment_channel=first.payment_channel,
            merchant_name=first.merchant_name,
            auth_date=first.auth_date,
            auth_time=first.auth_time,
            location=dict(first.location),
        )
        big_day = history_start + timedelta(days=rng.randint(10, max(11, span - 10)))
        b.card_purchase(
            "credit",
            big_day,
            "APPLE STORE #R102",
            Decimal("4899.00"),
            merchant_name="Apple",
            channel="in store",
            city=b.institution.home.city,
            region=b.institution.home.region,
            store="R102",
            website="apple.com",
        )
        test_day = anchor - timedelta(days=rng.randint(40, min(90, max(41, span - 1))))
        for descriptor in CARD_TESTING:
            b.card_purchase(
                "credit",
                test_day,
                descriptor,
                random_amount(rng, "0.50", "1.99"),
                merchant_name=None,
                channel="online",
                city=None,
                region=None,
                store=None,
                lag=1,
            )
        if horizon_end > anchor + timedelta(days=10):
            later = anchor + timedelta(days=rng.randint(2, 6))
            original = self.purchase(later, rng.choice(restaurants), role="credit")
            dup = b.add(
                "credit",
                original.amount,
                original.post_date,
                original.name,
                payment_channel=original.payment_channel,
                merchant_name=original.merchant_name,
                auth_date=original.auth_date,
                auth_time=original.auth_time,
                location=dict(original.location),
            )
            dup.remove_on = dup.post_date + timedelta(days=2)
