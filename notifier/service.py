"""notifier service entrypoints (thin: validate, call domain code, dispatch events)."""

from common.nameko_deps import Database, Outbox, Redis, RequestContext
from common.service_base import NesteggService
from notifier.models import OutboxEvent, ProcessedEvent


class NotifierService(NesteggService):
    name = "notifier"
    inbox_model = ProcessedEvent

    db = Database(name)
    outbox = Outbox(OutboxEvent)
    redis = Redis()
    context = RequestContext()
