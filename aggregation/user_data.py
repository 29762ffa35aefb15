"""A user's aggregation data for account export, and its erasure on ``user_deleted``.

Export holds what the user linked (institutions, item status, accounts, balance history) and
never an access token. Erasure first asks the provider to remove each linked item (so the bank
connection ends at Plaid too), then deletes every row of the user (:mod:`common.erasure`). A
provider that cannot be reached does not stop the erasure: the access token is deleted with
the rows, so nobody can use the orphaned item, and its id is logged for the operator.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregation import sync_store
from aggregation.models import Account, BalanceSnapshot, Base, ErasedUser, Item
from aggregation.providers.base import ProviderError
from common.erasure import erase_user

log = logging.getLogger(__name__)
GONE_AT_PROVIDER = frozenset({"INVALID_ACCESS_TOKEN", "ITEM_NOT_FOUND"})


def balance_history(session: Session, user_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(BalanceSnapshot, Account.provider_account_id)
        .join(Account, Account.id == BalanceSnapshot.account_id)
        .where(Account.user_id == user_id)
        .order_by(BalanceSnapshot.account_id, BalanceSnapshot.id)
    )
    return [
        {
            "account_id": account_id,  # the provider's, as everywhere in the API
            "captured_at": snap.captured_at,
            "current": snap.current,
            "available": snap.available,
            "limit": snap.limit,
            "iso_currency_code": snap.iso_currency_code,
        }
        for snap, account_id in rows
    ]


def remove_at_provider(provider, cipher, items: list[Item]) -> list[str]:
    """Remove each provider-linked item at the provider; returns the ids it could not remove."""
    unreached = []
    for item in items:
        if item.provider != "plaid" or not item.access_token:
            continue
        try:
            provider.remove_item(sync_store.access_token(cipher, item))
        except ProviderError as exc:
            if exc.error_code not in GONE_AT_PROVIDER:
                unreached.append(item.id)
                log.warning(
                    "item %s could not be removed at the provider (%s); its token is erased",
                    item.id,
                    exc.error_code,
                )
        except Exception as exc:  # an undecryptable token, a network error: erase anyway
            unreached.append(item.id)
            log.warning(
                "item %s could not be removed at the provider (%s); its token is erased",
                item.id,
                type(exc).__name__,
            )
    return unreached


def erase(session: Session, provider, cipher, user_id: str) -> dict[str, Any]:
    items = list(session.scalars(select(Item).where(Item.user_id == user_id)))
    unreached = remove_at_provider(provider, cipher, items)
    return {
        "rows_deleted": erase_user(session, Base, ErasedUser, user_id),
        "items_not_removed_at_provider": unreached,
    }
