"""The sync engine's plain parts: pull every /transactions/sync page, net the changes, and cut
them into events. No database and no broker here (see :mod:`aggregation.sync_store`).

Pulling: start from the stored cursor and follow ``next_cursor`` while ``has_more``. When a page
fails with TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION everything gathered in this run is
dropped and the run restarts from its first cursor (Plaid's documented recovery).

Netting: within one run a transaction id appears at most once in the result, so the events of
one sync can be applied in any order. added then modified -> added (latest data); modified
then modified -> modified (latest); added then removed -> nothing; modified then removed ->
removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aggregation import normalize
from aggregation.providers.base import MUTATION_DURING_PAGINATION, ProviderError

PAGE_SIZE = 500
EVENT_CHUNK = 500
MAX_RESTARTS = 5


@dataclass
class SyncChanges:
    added: list[dict] = field(default_factory=list)
    modified: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)
    next_cursor: str = ""
    pages: int = 0
    restarts: int = 0

    @property
    def count(self) -> int:
        return len(self.added) + len(self.modified) + len(self.removed)


class _Netter:
    def __init__(self) -> None:
        self.changes: dict[str, tuple[str, dict]] = {}

    def add(self, kind: str, txn: dict) -> None:
        tid = txn["transaction_id"]
        previous = self.changes.get(tid)
        if kind == "removed":
            if previous is not None and previous[0] == "added":
                del self.changes[tid]  # born and gone within this run
            else:
                self.changes[tid] = ("removed", txn)
            return
        if kind == "modified" and previous is not None and previous[0] == "added":
            kind = "added"
        self.changes[tid] = (kind, txn)

    def result(self) -> tuple[list[dict], list[dict], list[dict]]:
        out: dict[str, list[dict]] = {"added": [], "modified": [], "removed": []}
        for kind, txn in self.changes.values():
            out[kind].append(txn)
        return out["added"], out["modified"], out["removed"]


def pull_changes(
    fetch_page: Callable[[str, int], dict],
    cursor: str,
    *,
    page_size: int = PAGE_SIZE,
    max_restarts: int = MAX_RESTARTS,
) -> SyncChanges:
    """All changes since ``cursor``. ``fetch_page(cursor, count)`` returns a Plaid page."""
    if not 1 <= page_size <= 500:
        raise ValueError("page_size must be within 1..500")
    restarts = pages = 0
    while True:
        netter, position, accounts = _Netter(), cursor, []
        try:
            while True:
                page = fetch_page(position, page_size)
                pages += 1
                for t in page["added"]:
                    netter.add("added", normalize.transaction(t))
                for t in page["modified"]:
                    netter.add("modified", normalize.transaction(t))
                for r in page["removed"]:
                    netter.add("removed", normalize.removed(r))
                accounts = page.get("accounts") or accounts
                if not isinstance(page["next_cursor"], str):
                    raise ProviderError("INVALID_RESPONSE", "API_ERROR", "next_cursor not a string")
                position = page["next_cursor"]
                if not page["has_more"]:
                    break
        except ProviderError as exc:
            if exc.error_code != MUTATION_DURING_PAGINATION or restarts >= max_restarts:
                raise
            restarts += 1
            continue
        added, modified, removed = netter.result()
        return SyncChanges(
            added=added,
            modified=modified,
            removed=removed,
            accounts=[normalize.account(a) for a in accounts],
            # Plaid answers "" while transactions are not ready: keep the old cursor then
            next_cursor=position or cursor,
            pages=pages,
            restarts=restarts,
        )


def chunk_changes(changes: SyncChanges, size: int = EVENT_CHUNK) -> list[dict]:
    """Cut the changes into pieces of at most ``size`` transactions (added + modified +
    removed together). No changes, no pieces."""
    if size < 1:
        raise ValueError("size must be positive")
    items = (
        [("added", t) for t in changes.added]
        + [("modified", t) for t in changes.modified]
        + [("removed", t) for t in changes.removed]
    )
    pieces = []
    for start in range(0, len(items), size):
        piece: dict[str, list[dict]] = {"added": [], "modified": [], "removed": []}
        for kind, txn in items[start : start + size]:
            piece[kind].append(txn)
        pieces.append(piece)
    return pieces
