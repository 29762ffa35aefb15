"""aggregation service entrypoints (thin: validate, call domain code, dispatch events).

RPCs for the gateway (``principal`` = the caller's access token; every query is scoped by its
subject, another user's item id answers NotFound):
  create_link_token(principal, {item_id?})                  step-up; update mode with item_id
  create_sandbox_public_token(principal, {institution_id, username?, password?})  sandbox only
  exchange_public_token(principal, {public_token})          step-up; the item with its accounts
  list_items(principal) / list_accounts(principal)
  refresh_item(principal, {item_id}) / delete_item(principal, {item_id})
  import_file(principal, {filename, content_base64, format?, account_name?, mapping?})
  handle_plaid_webhook({headers, body})                     no principal; Unauthenticated -> 401
  metrics()                                                 no principal; counters
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging

from nameko.rpc import rpc
from nameko.timer import timer
from sqlalchemy import delete, func, or_, select

from aggregation import normalize, sync_store, user_data
from aggregation.deps import AggregationToolkit
from aggregation.file_import import ImportRejected, parse_file
from aggregation.file_import.parse import stable_ids
from aggregation.health import connection_health
from aggregation.models import (
    Account,
    BalanceSnapshot,
    ErasedUser,
    Item,
    OutboxEvent,
    ProcessedEvent,
)
from aggregation.providers.base import ProviderError
from aggregation.schemas import (
    AccountOut,
    ExchangeIn,
    ImportIn,
    ImportOut,
    ItemOut,
    ItemRef,
    LinkTokenIn,
    LinkTokenOut,
    PublicTokenOut,
    SandboxPublicTokenIn,
    SyncOut,
    WebhookIn,
)
from aggregation.sync import SyncChanges
from aggregation.user_data import GONE_AT_PROVIDER
from aggregation.webhooks import verify_webhook
from common.config import env_float
from common.contracts.aggregation import dump_event
from common.db import new_id, utcnow
from common.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    UpstreamError,
    ValidationFailed,
)
from common.logging import user_id_var
from common.nameko_deps import Database, Outbox, Redis, RequestContext
from common.nameko_events import handles
from common.rpc import boundary
from common.schemas import to_plain
from common.service_base import NesteggService

log = logging.getLogger(__name__)
SYNC_POLL_SECONDS = env_float("NESTEGG_SYNC_POLL", 2.0)
SYNCS_PER_TICK = 5


def domain_error(exc: ProviderError):
    """A provider failure as the error the caller should see (no token, no internals)."""
    if exc.retryable:
        return UpstreamError(
            "The bank data provider is unavailable; try again shortly",
            {"provider_code": exc.error_code},
        )
    if exc.is_item_error:
        return BadRequest(
            exc.display_message or "The institution refused the connection",
            {"provider_code": exc.error_code},
        )
    return BadRequest("The provider rejected the request", {"provider_code": exc.error_code})


class AggregationService(NesteggService):
    name = "aggregation"
    inbox_model = ProcessedEvent
    erased_model = ErasedUser

    db = Database(name)
    outbox = Outbox(OutboxEvent)
    redis = Redis()
    context = RequestContext()
    kit = AggregationToolkit()

    # ------------------------------------------------------------------ helpers
    def _owned_item(self, session, user_id: str, item_id: str, *, lock: bool = False) -> Item:
        query = select(Item).where(Item.id == item_id, Item.user_id == user_id)
        if lock:
            query = query.with_for_update()
        item = session.scalars(query).one_or_none()
        if item is None:
            raise NotFound("No such item")
        return item

    def _item_view(self, item: Item, accounts: list[dict] | None = None) -> dict:
        view = {
            "item_id": item.id,
            "provider": item.provider,
            "institution_id": item.institution_id,
            "institution_name": item.institution_name,
            "status": item.status,
            "created_at": item.created_at,
            "health": connection_health(
                item, now=utcnow(), sync_interval=self.kit.settings.sync_interval
            ),
        }
        if accounts is not None:
            view["accounts"] = accounts
        return view

    def _accounts_view(self, session, user_id: str, item_ids: list[str] | None = None):
        latest = (
            select(BalanceSnapshot.account_id, func.max(BalanceSnapshot.id).label("last"))
            .group_by(BalanceSnapshot.account_id)
            .subquery()
        )
        query = (
            select(Account, BalanceSnapshot)
            .outerjoin(latest, latest.c.account_id == Account.id)
            .outerjoin(BalanceSnapshot, BalanceSnapshot.id == latest.c.last)
            .where(Account.user_id == user_id)
            .order_by(Account.item_id, Account.name, Account.id)
        )
        if item_ids is not None:
            query = query.where(Account.item_id.in_(item_ids))
        out = []
        for account, snap in session.execute(query):
            out.append(
                {
                    # the provider's account id: the id transactions, holdings, rules and
                    # goals carry, so an id from this list filters and links everywhere
                    "account_id": account.provider_account_id,
                    "item_id": account.item_id,
                    "name": account.name,
                    "official_name": account.official_name,
                    "mask": account.mask,
                    "type": account.type,
                    "subtype": account.subtype,
                    "iso_currency_code": account.iso_currency_code,
                    "current": snap.current if snap else None,
                    "available": snap.available if snap else None,
                    "limit": snap.limit if snap else None,
                    "balance_as_of": snap.captured_at if snap else None,
                }
            )
        return out

    def _provider_call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ProviderError as exc:
            self.kit.counters.inc(f"provider_errors.{exc.error_code}")
            raise domain_error(exc) from None

    def _token(self, item: Item) -> str:
        return sync_store.access_token(self.kit.cipher, item)

    def _sync(self, item_id: str) -> dict:
        outcome = sync_store.run_sync(
            self.db.factory, self.kit.provider, self.kit.cipher, self.outbox.add, item_id
        )
        counters = self.kit.counters
        counters.inc(f"syncs.{outcome.status}")
        counters.inc("transactions_received", outcome.added + outcome.modified + outcome.removed)
        if outcome.error_code:
            counters.inc(f"provider_errors.{outcome.error_code}")
        return outcome.as_dict()

    # ------------------------------------------------------------------ Link flow
    @rpc
    @boundary(request=LinkTokenIn(), response=LinkTokenOut(), step_up=True)
    def create_link_token(self, principal, payload):
        user_id_var.set(principal.user_id)
        token = None
        if payload.get("item_id"):
            with self.db.transaction() as session:
                item = self._owned_item(session, principal.user_id, payload["item_id"])
                if item.provider != "plaid":
                    raise BadRequest("File-import items have no bank connection to repair")
                token = self._token(item)
        result = self._provider_call(
            self.kit.provider.create_link_token,
            principal.user_id,
            access_token=token,
            webhook=self.kit.settings.webhook,
        )
        return {**result, "update_mode": token is not None}

    @rpc
    @boundary(request=SandboxPublicTokenIn(), response=PublicTokenOut(), step_up=True)
    def create_sandbox_public_token(self, principal, payload):
        if not self.kit.settings.is_sandbox:
            raise Forbidden("Sandbox public tokens exist only in the sandbox environment")
        public_token = self._provider_call(
            self.kit.provider.create_sandbox_public_token,
            payload["institution_id"],
            username=payload.get("username"),
            password=payload.get("password"),
            webhook=self.kit.settings.webhook,
        )
        return {"public_token": public_token}

    @rpc
    @boundary(request=ExchangeIn(), response=ItemOut(), step_up=True)
    def exchange_public_token(self, principal, payload):
        user_id_var.set(principal.user_id)
        provider = self.kit.provider
        exchanged = self._provider_call(provider.exchange_public_token, payload["public_token"])
        token = exchanged["access_token"]
        plaid_item = self._provider_call(provider.get_item, token)
        accounts = [normalize.account(a) for a in self._provider_call(provider.get_accounts, token)]
        with self.db.transaction() as session:
            existing = session.scalars(
                select(Item).where(
                    Item.provider == "plaid", Item.provider_item_id == exchanged["item_id"]
                )
            ).one_or_none()
            if existing is not None and existing.user_id != principal.user_id:
                raise Conflict("This connection is already linked")
            item = existing or Item(
                id=new_id(),
                user_id=principal.user_id,
                provider="plaid",
                provider_item_id=exchanged["item_id"],
                cursor="",
                status="healthy",
                sync_sequence=0,
                transactions_last_sync=0,
                transactions_total=0,
            )
            item.institution_id = plaid_item.get("institution_id")
            item.institution_name = plaid_item.get("institution_name")
            item.access_token = self.kit.cipher.encrypt(
                token, ctx=sync_store.token_context(item.id)
            )
            item.sync_requested_at = utcnow()
            if existing is None:
                session.add(item)
            session.flush()
            rows = sync_store.upsert_accounts(session, item, accounts)
            sync_store.record_balances(session, item, rows, accounts, self.outbox.add, utcnow())
            session.flush()
            self.kit.counters.inc("items_linked")
            return self._item_view(item, self._accounts_view(session, principal.user_id, [item.id]))

    # ------------------------------------------------------------------ Items and accounts
    @rpc
    @boundary(response=ItemOut(), many=True)
    def list_items(self, principal):
        with self.db.transaction() as session:
            return self._items_view(session, principal.user_id)

    def _items_view(self, session, user_id: str) -> list[dict]:
        items = session.scalars(
            select(Item).where(Item.user_id == user_id).order_by(Item.created_at)
        ).all()
        by_item: dict[str, list] = {}
        for account in self._accounts_view(session, user_id):
            by_item.setdefault(account["item_id"], []).append(account)
        return [self._item_view(i, by_item.get(i.id, [])) for i in items]

    @rpc
    @boundary(response=AccountOut(), many=True)
    def list_accounts(self, principal):
        with self.db.transaction() as session:
            return self._accounts_view(session, principal.user_id)

    @rpc
    @boundary(request=ItemRef(), response=SyncOut())
    def refresh_item(self, principal, payload):
        user_id_var.set(principal.user_id)
        with self.db.transaction() as session:
            item = self._owned_item(session, principal.user_id, payload["item_id"])
            if item.provider != "plaid":
                raise BadRequest("File-import items are refreshed by importing a file")
        return self._sync(item.id)

    @rpc
    @boundary(request=ItemRef(), step_up=True)
    def delete_item(self, principal, payload):
        user_id_var.set(principal.user_id)
        with self.db.transaction() as session:
            item = self._owned_item(session, principal.user_id, payload["item_id"], lock=True)
            if item.provider == "plaid" and item.access_token:
                try:
                    self.kit.provider.remove_item(self._token(item))
                except ProviderError as exc:
                    if exc.error_code not in GONE_AT_PROVIDER:
                        raise domain_error(exc) from None
            account_ids = list(
                session.scalars(
                    select(Account.provider_account_id).where(Account.item_id == item.id)
                )
            )
            session.delete(item)  # accounts, snapshots, imported ids cascade
            # sync pages of this item not yet published would otherwise arrive after
            # item_removed and bring its transactions back downstream
            session.execute(
                delete(OutboxEvent).where(
                    OutboxEvent.published_at.is_(None),
                    OutboxEvent.payload["data"]["item_id"].as_string() == item.id,
                )
            )
            # downstream services drop the item's transactions and holdings (their rows carry
            # the provider's account ids, as every aggregation event does)
            removed = {"user_id": principal.user_id, "item_id": item.id, "account_ids": account_ids}
            self.outbox.add(
                session,
                "item_removed",
                dump_event("item_removed", removed),
                user_id=principal.user_id,
            )
        self.kit.counters.inc("items_deleted")
        return {"item_id": payload["item_id"], "deleted": True}

    # ------------------------------------------------------------------ Export and erasure
    @rpc
    @boundary(scopes=("accounts:read",), step_up=True)
    def export_user_data(self, principal):
        """Everything this service holds about the caller (step-up, like the users export)."""
        with self.db.transaction() as session:
            return to_plain(
                {
                    "items": self._items_view(session, principal.user_id),
                    "balance_history": user_data.balance_history(session, principal.user_id),
                }
            )

    @handles("users", "user_deleted")
    def on_user_deleted(self, session, event):
        user_id = event["data"]["user_id"]
        outcome = user_data.erase(session, self.kit.provider, self.kit.cipher, user_id)
        log.info(
            "erased a deleted user's aggregation data",
            extra={"rows_deleted": outcome["rows_deleted"]},
        )

    # ------------------------------------------------------------------ Sync triggers
    @rpc
    @boundary(request=WebhookIn(), authenticated=False)
    def handle_plaid_webhook(self, payload):
        counters = self.kit.counters
        try:
            body = verify_webhook(payload["headers"], payload["body"], self.kit.webhook_keys)
        except Exception:
            counters.inc("webhooks.rejected")
            raise
        counters.inc("webhooks.accepted")
        kind, code = body.get("webhook_type"), body.get("webhook_code")
        provider_item_id = body.get("item_id")
        with self.db.transaction() as session:
            item = session.scalars(
                select(Item).where(
                    Item.provider == "plaid", Item.provider_item_id == str(provider_item_id)
                )
            ).one_or_none()
            if item is None:
                return {"accepted": True, "action": "ignored_unknown_item"}
            if kind == "ITEM" and code == "ERROR" and isinstance(body.get("error"), dict):
                error = body["error"]
                item_id = item.id
            elif kind in ("TRANSACTIONS", "HOLDINGS", "INVESTMENTS_TRANSACTIONS") or (
                kind == "ITEM" and code in ("LOGIN_REPAIRED", "NEW_ACCOUNTS_AVAILABLE")
            ):
                item.sync_requested_at = utcnow()
                return {"accepted": True, "action": "sync_scheduled"}
            else:
                return {"accepted": True, "action": "ignored"}
        exc = ProviderError(
            str(error.get("error_code") or "ITEM_ERROR"),
            str(error.get("error_type") or ""),
            str(error.get("error_message") or "")[:300],
            error.get("display_message"),
        )
        sync_store.record_failure(self.db.factory, self.outbox.add, item_id, exc)
        self.outbox.dirty = True
        return {"accepted": True, "action": "item_error_recorded"}

    @timer(interval=SYNC_POLL_SECONDS)
    def sync_due(self):
        """Syncs items a webhook asked for, and (fallback) items not synced for
        NESTEGG_SYNC_INTERVAL seconds. Locked items are skipped (another sync runs)."""
        now = utcnow()
        stale_before = now - dt.timedelta(seconds=self.kit.settings.sync_interval)
        with self.db.transaction() as session:
            due = session.scalars(
                select(Item.id)
                .where(
                    Item.provider == "plaid",
                    Item.status != "login_required",
                    or_(
                        Item.sync_requested_at.is_not(None),
                        Item.last_attempt_at.is_(None),
                        Item.last_attempt_at < stale_before,
                    ),
                )
                .order_by(Item.sync_requested_at.asc().nulls_last(), Item.last_attempt_at)
                .limit(SYNCS_PER_TICK)
                .with_for_update(skip_locked=True)
            ).all()
        for item_id in due:
            self._sync(item_id)

    # ------------------------------------------------------------------ File import
    @rpc
    @boundary(request=ImportIn(), response=ImportOut())
    def import_file(self, principal, payload):
        user_id_var.set(principal.user_id)
        try:
            content = base64.b64decode(payload["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed.from_messages(
                {"content_base64": ["Not valid base64."]}
            ) from None
        try:
            parsed = parse_file(
                payload["filename"],
                content,
                declared_format=payload.get("format"),
                account_name=payload.get("account_name"),
                mapping=payload.get("mapping"),
            )
        except ImportRejected as exc:
            self.kit.counters.inc("imports.rejected")
            raise ValidationFailed(
                f"The file was not imported: {exc}", {"errors": {"rows": exc.reported()}}
            ) from None
        fmt = "csv" if parsed[0].key.startswith("csv:") else "ofx"
        with self.db.transaction() as session:
            item = session.scalars(
                select(Item)
                .where(
                    Item.provider == "file", Item.provider_item_id == f"file:{principal.user_id}"
                )
                .with_for_update()
            ).one_or_none()
            if item is None:
                item = Item(
                    id=new_id(),
                    user_id=principal.user_id,
                    provider="file",
                    provider_item_id=f"file:{principal.user_id}",
                    institution_name="File import",
                    cursor="",
                    status="healthy",
                    sync_sequence=0,
                    transactions_last_sync=0,
                    transactions_total=0,
                )
                session.add(item)
                session.flush()
            refs = [
                {
                    "account_id": a.key,
                    "name": a.name,
                    "mask": a.mask,
                    "type": a.type,
                    "subtype": a.subtype,
                    "iso_currency_code": a.currency,
                }
                for a in parsed
            ]
            rows = sync_store.upsert_accounts(session, item, refs)
            claims, staged = [], []
            for account in parsed:
                row = rows[account.key]
                ids = stable_ids(principal.user_id, row.id, account.transactions)
                for txn_id, txn in zip(ids, account.transactions, strict=True):
                    claims.append({"account_id": row.id, "transaction_id": txn_id})
                    staged.append((row.id, txn_id, account, txn))
            fresh = sync_store.claim_imported(session, claims)
            added, seen = [], set()
            for row_id, txn_id, account, txn in staged:
                if (row_id, txn_id) not in fresh or txn_id in seen:
                    continue
                seen.add(txn_id)
                added.append(
                    {
                        "transaction_id": txn_id,
                        "account_id": account.key,
                        "amount": txn.amount,
                        "iso_currency_code": txn.currency or account.currency,
                        "unofficial_currency_code": None,
                        "date": txn.date,
                        "authorized_date": None,
                        "name": txn.name,
                        "merchant_name": None,
                        "original_description": txn.name,
                        "pending": False,
                        "pending_transaction_id": None,
                        "payment_channel": None,
                    }
                )
            sync_store.emit_transactions(
                session, item, SyncChanges(added=added), refs, self.outbox.add, provider="file"
            )
            now = utcnow()
            item.last_attempt_at = item.last_synced_at = now
            item.transactions_last_sync = len(added)
            item.transactions_total += len(added)
            total = sum(len(a.transactions) for a in parsed)
            self.kit.counters.inc("imports.accepted")
            return {
                "item_id": item.id,
                "format": fmt,
                "accounts": [
                    {
                        "account_id": rows[a.key].id,
                        "name": a.name,
                        "mask": a.mask,
                        "transactions": len(a.transactions),
                    }
                    for a in parsed
                ],
                "rows": total,
                "added": len(added),
                "duplicates": total - len(added),
            }

    # ------------------------------------------------------------------ Metrics
    @rpc
    def metrics(self):
        """Counters since start plus item totals by status (operators; no principal)."""
        with self.db.transaction() as session:
            by_status = dict(
                session.execute(
                    select(Item.status, func.count())
                    .where(Item.provider == "plaid")
                    .group_by(Item.status)
                ).all()
            )
            totals = session.execute(
                select(
                    func.coalesce(func.sum(Item.transactions_total), 0), func.avg(Item.last_sync_ms)
                )
            ).one()
        return {
            "counters": self.kit.counters.snapshot(),
            "provider_calls": self.kit.provider.calls,
            "provider_retries": self.kit.provider.retries,
            "items_by_status": {str(k): int(v) for k, v in by_status.items()},
            "transactions_received_total": int(totals[0]),
            "mean_last_sync_ms": None if totals[1] is None else round(float(totals[1]), 1),
        }
