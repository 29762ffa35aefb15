"""Recognise money that only moves between the user's own accounts.

Two rules, either suffices (a transfer is neither income nor spending):

1. **Category**: Plaid PFC primaries ``TRANSFER_IN``, ``TRANSFER_OUT`` and ``LOAN_PAYMENTS``
   (credit card payments, and loan payments that move money to a liability the user holds).
2. **Matching pair**: an outflow on one account and an inflow of exactly the opposite amount,
   same currency, on *another* of the user's accounts, dated within ``window_days`` of each
   other. Each transaction is in at most one pair; an outflow takes the closest-dated inflow
   (ties: lower id), outflows taken in date order, so the result does not depend on input order.

Input transactions are dicts with ``id``, ``account_id``, ``date`` (date), ``amount`` (Decimal,
negative = out), ``currency`` and optionally ``category_primary``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

TRANSFER_PRIMARIES = frozenset({"TRANSFER_IN", "TRANSFER_OUT", "LOAN_PAYMENTS"})
DEFAULT_WINDOW_DAYS = 3


def match_transfer_pairs(
    txns: Iterable[Mapping[str, Any]], *, window_days: int = DEFAULT_WINDOW_DAYS
) -> list[tuple[str, str]]:
    """(outflow id, inflow id) pairs of opposite amounts between two different accounts."""
    if window_days < 0:
        raise ValueError("window_days must be >= 0")
    inflows: dict[tuple[str, Any], list[Mapping[str, Any]]] = defaultdict(list)
    outflows = []
    for t in txns:
        if t["amount"] > 0:
            inflows[(t["currency"], t["amount"])].append(t)
        elif t["amount"] < 0:
            outflows.append(t)
    used: set[str] = set()
    pairs = []
    for out in sorted(outflows, key=lambda t: (t["date"], str(t["id"]))):
        best = None
        for cand in inflows.get((out["currency"], -out["amount"]), ()):
            if cand["id"] in used or cand["account_id"] == out["account_id"]:
                continue
            gap = abs((cand["date"] - out["date"]).days)
            if gap > window_days:
                continue
            rank = (gap, str(cand["id"]))
            if best is None or rank < best[0]:
                best = (rank, cand)
        if best is not None:
            used.add(best[1]["id"])
            pairs.append((str(out["id"]), str(best[1]["id"])))
    return pairs


def transfer_ids(
    txns: Iterable[Mapping[str, Any]], *, window_days: int = DEFAULT_WINDOW_DAYS
) -> set[str]:
    """Ids of every transaction that is a transfer by category or by a matching pair."""
    txns = list(txns)
    ids = {str(t["id"]) for t in txns if t.get("category_primary") in TRANSFER_PRIMARIES}
    candidates = [t for t in txns if str(t["id"]) not in ids]
    for out_id, in_id in match_transfer_pairs(candidates, window_days=window_days):
        ids.update((out_id, in_id))
    return ids
