"""Prices: one small interface, two feeds, a Redis cache, and staleness flags.

* :class:`ProviderCloseFeed` (default) - the close price the aggregator reported with the last
  ``holdings_synced`` (Plaid ``close_price`` / ``close_price_as_of``), read through a lookup
  function the service gives it (the ``securities`` table).
* :class:`SimulatedFeed` - a deterministic, seeded price per (ticker, day) for development and
  demos: no network, same answer every run. NOT market data.
* :class:`CachedFeed` - wraps either feed with Redis (``NESTEGG_PRICE_TTL`` seconds, default
  900); a cache outage falls through to the feed.

:func:`quote_table` returns every quote with ``stale = as_of older than NESTEGG_PRICE_STALE_DAYS
(default 3) days before today`` so responses can say which figures rest on old prices.
Choose the feed with ``NESTEGG_PRICE_FEED=provider|simulated``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from common.config import env, env_int
from common.config import load as load_settings

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
DEFAULT_TTL = 900
DEFAULT_STALE_DAYS = 3


@dataclass(frozen=True)
class Quote:
    ticker: str
    price: Decimal
    as_of: dt.date
    source: str


class PriceFeed(Protocol):
    name: str

    def closes(self, tickers: Iterable[str], today: dt.date) -> dict[str, Quote]:
        """Latest close on or before ``today`` for each ticker it knows (others are absent)."""
        ...


Lookup = Callable[[list[str]], Mapping[str, tuple[Decimal, dt.date | None]]]


class ProviderCloseFeed:
    """Closes reported by the aggregator; a missing ``as_of`` is treated as unknown (stale)."""

    name = "provider"

    def __init__(self, lookup: Lookup):
        self.lookup = lookup

    def closes(self, tickers: Iterable[str], today: dt.date) -> dict[str, Quote]:
        wanted = sorted({t.upper() for t in tickers})
        out = {}
        for ticker, (price, as_of) in self.lookup(wanted).items():
            if price is None or price <= 0:
                continue
            out[ticker] = Quote(ticker, Decimal(price), as_of or dt.date.min, self.name)
        return out


class SimulatedFeed:
    """Deterministic synthetic closes: a per-ticker base price (20-400) growing ~6%/yr with a
    yearly cycle of +-12% and a small daily wiggle, all derived from SHA-256 of the ticker."""

    name = "simulated"
    EPOCH = dt.date(2020, 1, 1)

    @staticmethod
    def _unit(*parts: str) -> float:
        digest = hashlib.sha256("|".join(parts).encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def price(self, ticker: str, day: dt.date) -> Decimal:
        t = ticker.upper()
        base = 20 + 380 * self._unit("base", t)
        phase = 2 * math.pi * self._unit("phase", t)
        years = (day - self.EPOCH).days / 365.25
        cycle = 1 + 0.12 * math.sin(2 * math.pi * years + phase)
        wiggle = 1 + 0.01 * (self._unit("day", t, day.isoformat()) - 0.5)
        return Decimal(repr(base * 1.06**years * cycle * wiggle)).quantize(CENT)

    def closes(self, tickers: Iterable[str], today: dt.date) -> dict[str, Quote]:
        day = today
        while day.weekday() >= 5:  # markets close on weekends: use Friday's close
            day -= dt.timedelta(days=1)
        return {
            t.upper(): Quote(t.upper(), self.price(t, day), day, self.name)
            for t in tickers
            if t and not t.upper().startswith("CUR:")
        }


class CachedFeed:
    """Redis read-through cache in front of a feed: key
    ``<deployment prefix>portfolio:price:<feed>:<ticker>``, so two deployments sharing one Redis
    (a dev stack and the test suite) never read each other's quotes."""

    def __init__(
        self, feed: PriceFeed, redis, *, ttl: int | None = None, namespace: str | None = None
    ):
        self.feed = feed
        self.namespace = namespace if namespace is not None else load_settings().db_prefix
        self.redis = redis
        self.ttl = ttl if ttl is not None else env_int("NESTEGG_PRICE_TTL", DEFAULT_TTL)
        if self.ttl <= 0:
            raise ValueError("NESTEGG_PRICE_TTL must be a positive number of seconds")
        self.name = feed.name

    def _key(self, ticker: str) -> str:
        return f"{self.namespace}portfolio:price:{self.feed.name}:{ticker}"

    def closes(self, tickers: Iterable[str], today: dt.date) -> dict[str, Quote]:
        wanted = sorted({t.upper() for t in tickers if t})
        out: dict[str, Quote] = {}
        try:
            cached = self.redis.mget([self._key(t) for t in wanted]) if wanted else []
        except Exception:  # cache down: serve from the feed
            log.warning("price cache unavailable; reading the feed", exc_info=True)
            cached = [None] * len(wanted)
        missing = []
        for ticker, raw in zip(wanted, cached, strict=True):
            if raw is None:
                missing.append(ticker)
                continue
            data = json.loads(raw)
            out[ticker] = Quote(
                ticker, Decimal(data["price"]), dt.date.fromisoformat(data["as_of"]), data["source"]
            )
        if missing:
            fresh = self.feed.closes(missing, today)
            out.update(fresh)
            try:
                pipe = self.redis.pipeline()
                for q in fresh.values():
                    body = {"price": str(q.price), "as_of": q.as_of.isoformat(), "source": q.source}
                    pipe.set(self._key(q.ticker), json.dumps(body), ex=self.ttl)
                pipe.execute()
            except Exception:
                log.warning("price cache write failed", exc_info=True)
        return out

    def invalidate(self, tickers: Iterable[str]) -> None:
        keys = [self._key(t.upper()) for t in tickers if t]
        if keys:
            try:
                self.redis.delete(*keys)
            except Exception:
                log.warning("price cache invalidation failed", exc_info=True)


def stale_days() -> int:
    days = env_int("NESTEGG_PRICE_STALE_DAYS", DEFAULT_STALE_DAYS)
    if days < 0:
        raise ValueError("NESTEGG_PRICE_STALE_DAYS must not be negative")
    return days


def is_stale(quote: Quote, today: dt.date, max_age_days: int) -> bool:
    return (today - quote.as_of).days > max_age_days


def quote_table(
    quotes: Mapping[str, Quote], today: dt.date, max_age_days: int | None = None
) -> dict[str, dict]:
    """ticker -> {price, as_of, source, stale} (plain data for a response)."""
    max_age = stale_days() if max_age_days is None else max_age_days
    return {
        t: {
            "price": q.price,
            "as_of": None if q.as_of == dt.date.min else q.as_of,
            "source": q.source,
            "stale": is_stale(q, today, max_age),
        }
        for t, q in sorted(quotes.items())
    }


def feed_from_config(lookup: Lookup) -> PriceFeed:
    name = env("NESTEGG_PRICE_FEED", "provider")
    if name == "provider":
        return ProviderCloseFeed(lookup)
    if name == "simulated":
        return SimulatedFeed()
    raise ValueError(f"NESTEGG_PRICE_FEED must be 'provider' or 'simulated', got {name!r}")
