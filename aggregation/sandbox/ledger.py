"""LedgerBuilder: appends entries for one Item, knowing its accounts and its bank's style."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from . import bank_text
from .accounts import AccountSpec
from .institutions import Institution
from .timeline import NULL_LOCATION, NULL_PAYMENT_META, Entry


@dataclass(frozen=True)
class CashFlow:
    """Money arriving in an investment account from checking (the other leg of a transfer)."""

    day: date
    role: str  # brokerage | ira
    amount: Decimal  # positive dollars received
    name: str


@dataclass
class LedgerBuilder:
    item_key: str
    institution: Institution
    accounts: dict[str, AccountSpec]
    holder: str
    rng: random.Random
    entries: list[Entry] = field(default_factory=list)
    cash_flows: list[CashFlow] = field(default_factory=list)

    @property
    def style(self) -> str:
        return self.institution.text_style

    def add(self, role: str, amount: Decimal, post_date: date | None, name: str, **extra) -> Entry:
        entry = Entry(
            seq=len(self.entries),
            account_id=self.accounts[role].account_id,
            amount=amount,
            post_date=post_date,
            name=name,
            **extra,
        )
        self.entries.append(entry)
        return entry

    def location(
        self, city: str | None, region: str | None, store: str | None, country: str = "US"
    ) -> dict:
        home = self.institution.home
        loc = dict(NULL_LOCATION)
        if city is not None:
            loc.update(city=city, region=region, country=country, store_number=store)
            if city == home.city:
                loc.update(postal_code=home.postal_code)
        return loc

    def card_purchase(
        self,
        role: str,
        day: date,
        descriptor: str,
        amount: Decimal,
        *,
        merchant_name: str | None,
        channel: str,
        city: str | None,
        region: str | None,
        store: str | None,
        website: str | None = None,
        pending_amount: Decimal | None = None,
        lag: int | None = None,
        country: str = "US",
    ) -> Entry:
        """A card purchase: pending from ``day``, posted 1-3 days later under a new id."""
        rng = self.rng
        lag = rng.choice((1, 1, 2, 2, 3)) if lag is None else lag
        line = bank_text.network_line(descriptor, city, region)
        if role == "checking":
            name = bank_text.debit_card_line(self.style, rng, day, line, self.accounts[role].mask)
        else:
            # credit-card lines keep the network's own case, except where the bank truncates
            truncating = self.style == "truncated_upper"
            name = bank_text.finish(self.style, line) if truncating else line
        return self.add(
            role,
            amount,
            day + timedelta(days=lag),
            name,
            payment_channel=channel,
            merchant_name=merchant_name,
            auth_date=day,
            auth_time=time(rng.randint(7, 22), rng.randint(0, 59), rng.randint(0, 59)),
            pending_amount=pending_amount,
            location=self.location(city, region, store, country),
            website=website,
        )

    def ach(
        self,
        role: str,
        day: date,
        company: str,
        desc: str,
        amount: Decimal,
        *,
        payee: str | None = None,
        payer: str | None = None,
    ) -> Entry:
        """An ACH debit (amount > 0) or credit (amount < 0) that posts without a pending phase."""
        maker = bank_text.ach_debit_line if amount > 0 else bank_text.ach_credit_line
        name = maker(self.style, self.rng, day, company, desc, self.holder)
        meta = dict(NULL_PAYMENT_META)
        meta.update(
            reference_number=f"{self.rng.randint(10**14, 10**15 - 1)}",
            ppd_id=f"{self.rng.randint(10**9, 10**10 - 1)}",
            payee=payee,
            payer=payer,
            payment_method="ACH",
        )
        return self.add(role, amount, day, name, payment_channel="other", payment_meta=meta)

    def own_transfer(
        self, day: date, from_role: str, to_role: str, amount: Decimal
    ) -> tuple[Entry, Entry]:
        """Both legs of a transfer between two of the Item's accounts, sharing one reference."""
        if amount <= 0:
            raise ValueError("a transfer moves a positive amount")
        out_line, in_line = bank_text.transfer_lines(
            self.style,
            self.rng,
            day,
            from_role.upper(),
            self.accounts[from_role].mask,
            to_role.upper(),
            self.accounts[to_role].mask,
        )
        meta = dict(NULL_PAYMENT_META)
        meta.update(
            reference_number=f"IB{self.rng.randint(10**9, 10**10 - 1)}", payment_method="transfer"
        )
        out_leg = self.add(
            from_role, amount, day, out_line, payment_channel="online", payment_meta=meta
        )
        in_leg = self.add(
            to_role, -amount, day, in_line, payment_channel="online", payment_meta=dict(meta)
        )
        return out_leg, in_leg
