"""Account-data providers behind one interface (Plaid first; file import is the second)."""

from aggregation.providers.base import AggregationProvider, ProviderError

__all__ = ["AggregationProvider", "ProviderError"]
