"""The sync engine's database side: lock the item, pull, write rows + cursor + outbox events in
ONE transaction, so a crash or broker outage anywhere loses nothing and duplicates nothing.

Concurrency: the item row is taken with ``FOR UPDATE SKIP LOCKED`` for the whole run; a second
sync of the same item (another worker or instance) sees it locked and returns ``busy``.
Failures roll the run back (cursor unchanged) and are then recorded in a second transaction:
item status, error fields and an ``item_error`` event when the status or code changed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from aggregation import normalize
from aggregation.models import Account, BalanceSnapshot, Item
from aggregation.providers.base import ProviderError
from aggregation.sync import SyncChanges, chunk_changes, pull_changes
from common.contracts.aggregation import dump_event
from common.crypto import CipherContext, FieldCipher
from common.db import new_id, transaction, utcnow

log = logging.getLogger(__name__)
AddEvent = Callable[..., str]  # (session, event_type, data, user_id=...) -> event id
INVESTMENT_HISTORY_DAYS = 730
INVESTMENT_OVERLAP_DAYS = 7
SKIPPABLE_INVESTMENT_ERRORS = frozenset(
    {
        "PRODUCT_NOT_READY",
        "PRODUCTS_NOT_SUPPORTED",
        "NO_INVESTMENT_ACCOUNTS",
        "INVALID_PRODUCT",
        "ADDITIONAL_CONSENT_REQUIRED",
    }
)


def token_context(item_id: str) -> CipherContext:
    return CipherContext(table="items", column="access_token", row_id=item_id)


def access_token(cipher: FieldCipher, item: Item) -> str:
    if not item.access_token:
        raise ProviderError("INVALID_ACCESS_TOKEN", "INVALID_INPUT", "item has no access token")
    return cipher.decrypt(item.access_token, ctx=token_context(item.id))


@dataclass
class SyncOutcome:
    item_id: str
    status: str  # synced | busy | missing | failed
    added: int = 0
    modified: int = 0
    removed: int = 0
    events: int = 0
    pages: int = 0
    restarts: int = 0
    latency_ms: int = 0
    error_code: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def upsert_accounts(session: Session, item: Item, accounts: list[dict]) -> dict[str, Account]:
    """Accounts of ``item`` by provider account id, created or refreshed from ``accounts``."""
    existing = {
        a.provider_account_id: a
        for a in session.scalars(select(Account).where(Account.item_id == item.id))
    }
    for data in accounts:
        row = existing.get(data["account_id"])
        if row is None:
            row = Account(
                id=new_id(),
                item_id=item.id,
                user_id=item.user_id,
                provider_account_id=data["account_id"],
            )
            session.add(row)
            existing[data["account_id"]] = row
        row.name = (data.get("name") or "Account")[:200]
        row.official_name = (data.get("official_name") or None) and data["official_name"][:200]
        row.mask = (data.get("mask") or None) and str(data["mask"])[-4:]
        row.type = data.get("type") or "other"
        row.subtype = data.get("subtype")
        row.iso_currency_code = data.get("iso_currency_code")
    session.flush()
    return existing


def account_refs(accounts: list[dict]) -> list[dict]:
    keys = ("account_id", "name", "mask", "type", "subtype", "iso_currency_code")
    return [{k: a.get(k) for k in keys} for a in accounts]


def balance_payload(accounts: list[dict]) -> list[dict]:
    keys = (
        "account_id",
        "type",
        "subtype",
        "name",
        "mask",
        "current",
        "available",
        "limit",
        "iso_currency_code",
    )
    return [{k: a.get(k) for k in keys} for a in accounts]


def record_balances(
    session: Session,
    item: Item,
    rows: dict[str, Account],
    accounts: list[dict],
    add_event,
    now: dt.datetime,
) -> None:
    for data in accounts:
        session.add(
            BalanceSnapshot(
                account_id=rows[data["account_id"]].id,
                captured_at=now,
                current=data.get("current"),
                available=data.get("available"),
                limit=data.get("limit"),
                iso_currency_code=data.get("iso_currency_code"),
            )
        )
    payload = {
        "user_id": item.user_id,
        "item_id": item.id,
        "as_of": now,
        "accounts": balance_payload(accounts),
    }
    add_event(
        session, "balances_updated", dump_event("balances_updated", payload), user_id=item.user_id
    )


def emit_transactions(
    session: Session,
    item: Item,
    changes: SyncChanges,
    accounts: list[dict],
    add_event,
    *,
    provider: str,
) -> int:
    pieces = chunk_changes(changes)
    if not pieces:
        return 0
    item.sync_sequence += 1
    sync_id = new_id()
    for number, piece in enumerate(pieces, start=1):
        payload = {
            "user_id": item.user_id,
            "item_id": item.id,
            "provider": provider,
            "sync_id": sync_id,
            "sequence": item.sync_sequence,
            "chunk": number,
            "chunks": len(pieces),
            "accounts": account_refs(accounts),
            **piece,
        }
        add_event(
            session,
            "transactions_synced",
            dump_event("transactions_synced", payload),
            user_id=item.user_id,
        )
    return len(pieces)


def sync_investments(
    session: Session,
    item: Item,
    provider,
    token: str,
    accounts: list[dict],
    add_event,
    now: dt.datetime,
) -> bool:
    if not any(a["type"] in ("investment", "brokerage") for a in accounts):
        return False
    end = now.date()
    start = (
        item.investments_through - dt.timedelta(days=INVESTMENT_OVERLAP_DAYS)
        if item.investments_through
        else end - dt.timedelta(days=INVESTMENT_HISTORY_DAYS)
    )
    try:
        holdings = provider.get_holdings(token)
        activity = provider.get_investment_transactions(token, start, end)
    except ProviderError as exc:
        if exc.error_code in SKIPPABLE_INVESTMENT_ERRORS:
            log.info("investments skipped for item %s: %s", item.id, exc.error_code)
            return False
        raise
    securities = {s["security_id"]: s for s in holdings["securities"]}
    securities.update({s["security_id"]: s for s in activity["securities"]})
    payload = {
        "user_id": item.user_id,
        "item_id": item.id,
        "as_of": now,
        "accounts": balance_payload([normalize.account(a) for a in holdings["accounts"]]),
        "securities": [normalize.security(s) for s in securities.values()],
        "holdings": [normalize.holding(h) for h in holdings["holdings"]],
        "investment_transactions": [
            normalize.investment_transaction(t) for t in activity["investment_transactions"]
        ],
    }
    add_event(
        session, "holdings_synced", dump_event("holdings_synced", payload), user_id=item.user_id
    )
    item.investments_through = end
    return True


def run_sync(
    factory: sessionmaker,
    provider,
    cipher: FieldCipher,
    add_event: AddEvent,
    item_id: str,
    *,
    page_size: int = 500,
) -> SyncOutcome:
    started = time.perf_counter()
    try:
        with transaction(factory) as session:
            item = session.scalars(
                select(Item)
                .where(Item.id == item_id, Item.provider == "plaid")
                .with_for_update(skip_locked=True)
            ).one_or_none()
            if item is None:
                exists = session.scalar(select(Item.id).where(Item.id == item_id))
                return SyncOutcome(item_id, "busy" if exists else "missing")
            token = access_token(cipher, item)
            changes = pull_changes(
                lambda cursor, count: provider.sync_transactions_page(token, cursor, count),
                item.cursor,
                page_size=page_size,
            )
            accounts = changes.accounts or [
                normalize.account(a) for a in provider.get_accounts(token)
            ]
            now = utcnow()
            rows = upsert_accounts(session, item, accounts)
            record_balances(session, item, rows, accounts, add_event, now)
            events = emit_transactions(
                session, item, changes, accounts, add_event, provider="plaid"
            )
            events += sync_investments(session, item, provider, token, accounts, add_event, now)
            latency = int((time.perf_counter() - started) * 1000)
            item.cursor = changes.next_cursor
            item.status, item.error_code, item.error_message = "healthy", None, None
            item.sync_requested_at = None
            item.last_attempt_at = item.last_synced_at = now
            item.last_sync_ms = latency
            item.transactions_last_sync = changes.count
            item.transactions_total += changes.count
            return SyncOutcome(
                item_id,
                "synced",
                len(changes.added),
                len(changes.modified),
                len(changes.removed),
                events + 1,
                changes.pages,
                changes.restarts,
                latency,
            )
    except ProviderError as exc:
        record_failure(factory, add_event, item_id, exc)
        latency = int((time.perf_counter() - started) * 1000)
        return SyncOutcome(item_id, "failed", latency_ms=latency, error_code=exc.error_code)


def status_for(exc: ProviderError) -> str:
    return "login_required" if exc.needs_login else "error"


def record_failure(
    factory: sessionmaker, add_event: AddEvent, item_id: str, exc: ProviderError
) -> None:
    with transaction(factory) as session:
        item = session.get(Item, item_id, with_for_update=True)
        if item is None:
            return
        status = status_for(exc)
        changed = (item.status, item.error_code) != (status, exc.error_code)
        now = utcnow()
        item.status, item.error_code = status, exc.error_code
        item.error_message = (exc.display_message or exc.message or "")[:500] or None
        item.error_at = item.last_attempt_at = now
        item.sync_requested_at = None
        if changed:
            payload = {
                "user_id": item.user_id,
                "item_id": item.id,
                "status": status,
                "error_code": exc.error_code,
                "display_message": exc.display_message,
            }
            add_event(
                session, "item_error", dump_event("item_error", payload), user_id=item.user_id
            )
    log.warning("sync of item %s failed: %s", item_id, exc.error_code)


def delete_accounts(session: Session, item_id: str) -> None:
    session.execute(delete(Account).where(Account.item_id == item_id))


def claim_imported(session: Session, rows: list[dict]) -> set[tuple[str, str]]:
    """Insert (account_id, transaction_id) pairs; returns those that were new."""
    from aggregation.models import ImportedTransaction

    if not rows:
        return set()
    new: set[tuple[str, str]] = set()
    for start in range(0, len(rows), 5000):
        result = session.execute(
            insert(ImportedTransaction)
            .values(rows[start : start + 5000])
            .on_conflict_do_nothing()
            .returning(ImportedTransaction.account_id, ImportedTransaction.transaction_id)
        )
        new.update((a, t) for a, t in result)
    return new
