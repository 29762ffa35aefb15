"""The two data-lifecycle event handlers of a service that keeps per-account user data.

Mix into a :class:`common.service_base.NesteggService` subclass that sets ``user_data`` to a
module (or object) with ``erase(session, user_id)`` and ``remove_accounts(session, user_id,
account_ids)``, ``erased_model`` (:func:`common.erasure.erased_users_table`) and
``removed_items_model`` (:func:`common.erasure.removed_items_table`). nameko finds
inherited entrypoints, so each service gets its own queues for these events.
"""

from __future__ import annotations

import logging

from common.contracts.aggregation import load_event
from common.erasure import forget_item
from common.nameko_events import handles

log = logging.getLogger(__name__)


class UserDataLifecycle:
    user_data = None  # set by the service
    removed_items_model = None  # set by the service

    @handles("users", "user_deleted")
    def on_user_deleted(self, session, event):
        counts = self.user_data.erase(session, event["data"]["user_id"])
        log.info("erased a deleted user's data", extra={"rows_deleted": counts})

    @handles("aggregation", "item_removed")
    def on_item_removed(self, session, event):
        data = load_event("item_removed", event["data"])
        forget_item(session, self.removed_items_model, data["user_id"], data["item_id"])
        removed = self.user_data.remove_accounts(session, data["user_id"], data["account_ids"])
        log.info("dropped a disconnected bank's data", extra={"rows_deleted": removed})
