"""What a service-layer call needs about its caller: one database session, the user it is
scoped to, today's date, the (cached) price feed, and a way to write events to the outbox.

``service.py`` builds one per request (or per user in the daily scan) and hands it to the
service-layer modules (``sync_events``, ``holdings_view``, ``checks``, ``plans``,
``goal_store``, ``reports``), which never see nameko.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from portfolio import prices


@dataclass
class UserContext:
    session: Session
    user_id: str
    today: dt.date
    feed: prices.CachedFeed
    emit: Callable[[str, dict], None]

    def quotes(self, tickers: Iterable[str]) -> dict[str, prices.Quote]:
        return self.feed.closes(tickers, self.today)

    @staticmethod
    def price_map(quotes: dict[str, prices.Quote]) -> dict[str, Decimal]:
        return {t: q.price for t, q in quotes.items()}

    def stale(self, quotes: dict[str, prices.Quote]) -> list[str]:
        """Tickers whose quote is older than NESTEGG_PRICE_STALE_DAYS."""
        table = prices.quote_table(quotes, self.today)
        return sorted(t for t, q in table.items() if q["stale"])
