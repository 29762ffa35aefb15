"""transactions service tables (its own database; no other service can read them)."""

from common.db import make_base
from common.messaging import messaging_tables

Base = make_base()
OutboxEvent, ProcessedEvent = messaging_tables(Base)
