"""What a service-layer call needs about its caller: one database session, the user it is
scoped to (the verified token's subject, or the event's user), the field keys, today's date,
the categoriser, and a way to write events to the outbox in the same database transaction.

``service.py`` builds one per request or consumed event and hands it to the service-layer
modules (``ingest``, ``flags``, ``budget_alerts``, ``budget_store``, ``queries``, ``listing``,
``edits``, ``manual``, ``rule_actions``, ``money_views``), which never see nameko.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from transactions.store import FieldKeys


@dataclass
class UserContext:
    session: Session
    user_id: str
    keys: FieldKeys
    today: dt.date
    emit: Callable[[str, dict], None]
    categorizer: Any = None
