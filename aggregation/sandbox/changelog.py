"""An Item's transaction change log and Plaid's /transactions/sync paging over it.

The log is a list of events ("added" | "modified" | "removed", transaction view). A cursor
encodes a position in the log plus the log length when the current pagination run began; if
the log grows before a run finishes, the next page fails with
TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION, as Plaid's does, and the client restarts from
the cursor it used at the start of the run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import PlaidApiError, invalid_field

INITIAL_PULL_DAYS = 30


def diff_events(before: dict[str, dict], after: dict[str, dict]) -> list[tuple[str, dict]]:
    """Events that turn snapshot ``before`` into ``after``: added, then modified, then removed."""
    added = [after[t] for t in after if t not in before]
    modified = [after[t] for t in after if t in before and after[t] != before[t]]
    removed = [before[t] for t in before if t not in after]
    key = lambda view: (view["date"], view["transaction_id"])  # noqa: E731
    return (
        [("added", v) for v in sorted(added, key=key)]
        + [("modified", v) for v in sorted(modified, key=key)]
        + [("removed", v) for v in sorted(removed, key=key)]
    )


def initial_events(snapshot: dict[str, dict], anchor: date) -> list[tuple[str, dict]]:
    """The first pull: the most recent 30 days first, then the historical backfill."""
    recent_from = anchor - timedelta(days=INITIAL_PULL_DAYS - 1)
    key = lambda view: (view["date"], view["transaction_id"])  # noqa: E731
    views = sorted(snapshot.values(), key=key)
    recent = [v for v in views if v["date"] >= recent_from]
    older = [v for v in views if v["date"] < recent_from]
    return [("added", v) for v in recent + older]


@dataclass(frozen=True)
class Cursor:
    position: int
    run_end: int  # log length when the pagination run began

    @property
    def mid_pagination(self) -> bool:
        return self.position < self.run_end


class CursorCodec:
    """Opaque, tamper-evident cursors (base64url, well under Plaid's 256 characters)."""

    def __init__(self, secret: bytes):
        self._secret = secret

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:16]

    def encode(self, item_id: str, cursor: Cursor) -> str:
        text = f"{cursor.position}.{cursor.run_end}"
        raw = f"{text}.{self._mac(item_id + '.' + text)}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, item_id: str, value: str) -> Cursor:
        try:
            padded = value + "=" * (-len(value) % 4)
            position, run_end, mac = base64.urlsafe_b64decode(padded).decode().split(".")
            valid = hmac.compare_digest(mac, self._mac(f"{item_id}.{position}.{run_end}"))
            cursor = Cursor(int(position), int(run_end))
        except (ValueError, UnicodeDecodeError):
            valid = False
        if not valid or len(value) > 256 or cursor.position > cursor.run_end:
            raise invalid_field("cursor is not valid for this access_token")
        return cursor


@dataclass
class SyncPage:
    added: list[dict]
    modified: list[dict]
    removed: list[dict]
    next_cursor: Cursor
    has_more: bool


def page(
    log: list[tuple[str, dict]],
    start: Cursor | None,
    count: int,
    account_id: str | None,
    force_mutation: bool,
) -> SyncPage:
    """One /transactions/sync page. ``start`` None means the beginning of the history."""
    if not 1 <= count <= 500:
        raise invalid_field("count must be between 1 and 500")
    start = start or Cursor(0, 0)
    if start.run_end > len(log):
        raise invalid_field("cursor is not valid for this access_token")
    if start.mid_pagination:
        if force_mutation or len(log) != start.run_end:
            raise PlaidApiError("TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION")
        run_end = start.run_end
    else:
        run_end = len(log)
    net: dict[str, tuple[str, dict]] = {}
    taken, position = 0, start.position
    while position < run_end and taken < count:
        kind, view = log[position]
        position += 1
        if account_id is not None and view["account_id"] != account_id:
            continue
        taken += 1
        net[view["transaction_id"]] = _combine(net.get(view["transaction_id"]), kind, view)
    result = SyncPage([], [], [], Cursor(position, run_end), position < run_end)
    for kind, view in net.values():
        {"added": result.added, "modified": result.modified, "removed": result.removed}.get(
            kind, []
        ).append(view)
    return result


def _combine(earlier: tuple[str, dict] | None, kind: str, view: dict) -> tuple[str, dict]:
    """Net effect of two events on one transaction inside a page."""
    if earlier is None:
        return kind, view
    if earlier[0] == "added":
        return ("dropped", view) if kind == "removed" else ("added", view)
    return kind, view
