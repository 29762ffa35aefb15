"""nameko dependency for the aggregation service: the provider, the field cipher, the webhook
key cache and the counters, built once per container from settings (container config keys
``PLAID_HOST``, ``PLAID_ENV``, ``PLAID_CLIENT_ID``, ``PLAID_SECRET``, ``PLAID_TIMEOUT``,
``PLAID_WEBHOOK`` override the environment, for tests)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from nameko.extensions import DependencyProvider

from aggregation.health import Counters
from aggregation.providers.plaid_provider import PlaidProvider
from aggregation.settings import PlaidSettings, load_plaid_settings
from aggregation.webhooks import WebhookKeyCache
from common.crypto import FieldCipher, get_key_provider


@dataclass
class Toolkit:
    settings: PlaidSettings
    provider: PlaidProvider
    cipher: FieldCipher
    webhook_keys: WebhookKeyCache
    counters: Counters


def build_toolkit(settings: PlaidSettings) -> Toolkit:
    provider = PlaidProvider(settings)
    return Toolkit(
        settings=settings,
        provider=provider,
        cipher=FieldCipher(get_key_provider()),
        webhook_keys=WebhookKeyCache(provider.get_webhook_verification_key),
        counters=Counters(),
    )


class AggregationToolkit(DependencyProvider):
    def setup(self):
        settings = load_plaid_settings()
        config = self.container.config
        overrides = {
            "host": config.get("PLAID_HOST"),
            "environment": config.get("PLAID_ENV"),
            "client_id": config.get("PLAID_CLIENT_ID"),
            "secret": config.get("PLAID_SECRET"),
            "timeout": config.get("PLAID_TIMEOUT"),
            "webhook": config.get("PLAID_WEBHOOK"),
            "sync_interval": config.get("SYNC_INTERVAL"),
        }
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
        self.toolkit = build_toolkit(settings)

    def get_dependency(self, worker_ctx):
        return self.toolkit
