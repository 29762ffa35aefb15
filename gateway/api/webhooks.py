"""``POST /webhooks/plaid``: Plaid's webhook, public on purpose (Plaid has no bearer token).

The gateway does not trust or parse the payload: it forwards the exact raw body and the
``Plaid-Verification`` header to ``aggregation.handle_plaid_webhook``, which verifies the ES256
JWT (key by ``kid`` from Plaid, ``iat`` at most 5 minutes old, SHA-256 of the exact body
compared in constant time) and only then schedules a sync. An unverified call answers 401
(``Unauthenticated`` crossing RPC). The RPC only records the request (the sync runs later on the
service's timer), so the answer is fast; it has a short timeout of its own.
"""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from gateway import rpc
from gateway.api.accounts_schemas import WebhookOut
from gateway.openapi import ApiBlueprint

blp = ApiBlueprint("webhooks", __name__, url_prefix="/webhooks", description="Provider webhooks")
FORWARDED_HEADERS = ("Plaid-Verification", "Content-Type")
WEBHOOK_TIMEOUT = 5.0


def forwarded_headers() -> dict[str, str]:
    return {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}


@blp.route("/plaid")
class PlaidWebhook(MethodView):
    @blp.response(200, WebhookOut)
    @blp.doc(
        summary="Plaid webhook (public; verified by its Plaid-Verification signature)",
        description="401 unless the `Plaid-Verification` JWT verifies against the exact body.",
        security=[],
    )
    def post(self):
        body = request.get_data(cache=True, as_text=True)
        return rpc.call(
            "aggregation",
            "handle_plaid_webhook",
            {"headers": forwarded_headers(), "body": body},
            timeout=WEBHOOK_TIMEOUT,
        )
