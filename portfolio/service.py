"""portfolio service entrypoints (thin: validate, call domain code, dispatch events)."""

from common.nameko_deps import Database, Outbox, Redis, RequestContext
from common.service_base import NesteggService
from portfolio.models import OutboxEvent, ProcessedEvent


class PortfolioService(NesteggService):
    name = "portfolio"
    inbox_model = ProcessedEvent

    db = Database(name)
    outbox = Outbox(OutboxEvent)
    redis = Redis()
    context = RequestContext()
