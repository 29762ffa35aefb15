"""aggregation service entrypoints (thin: validate, call domain code, dispatch events)."""

from aggregation.models import OutboxEvent, ProcessedEvent
from common.nameko_deps import Database, Outbox, Redis, RequestContext
from common.service_base import NesteggService


class AggregationService(NesteggService):
    name = "aggregation"
    inbox_model = ProcessedEvent

    db = Database(name)
    outbox = Outbox(OutboxEvent)
    redis = Redis()
    context = RequestContext()
