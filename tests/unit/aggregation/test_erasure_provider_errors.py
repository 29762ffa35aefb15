"""Erasure removes each linked item at the provider, and no provider failure of any kind stops
it: the item ids it could not reach are returned (and logged), the rows go anyway."""

import pytest

from aggregation import user_data
from aggregation.models import Item
from aggregation.providers.base import ProviderError


class Provider:
    def __init__(self, failures):
        self.failures, self.removed = failures, []

    def remove_item(self, token):
        failure = self.failures.get(token)
        if failure is not None:
            raise failure
        self.removed.append(token)


@pytest.fixture(autouse=True)
def plain_tokens(monkeypatch):
    monkeypatch.setattr(
        user_data.sync_store, "access_token", lambda cipher, item: item.access_token
    )


def item(item_id, provider="plaid", token=None):
    return Item(id=item_id, user_id="u", provider=provider, provider_item_id=item_id,
                access_token=token if token is not None else f"tok-{item_id}")  # fmt: skip


def test_every_failure_is_reported_and_none_stops_the_rest():
    provider = Provider(
        {
            "tok-down": ProviderError(error_code="INTERNAL_SERVER_ERROR", retryable=True),
            "tok-gone": ProviderError(error_code="ITEM_NOT_FOUND"),
            "tok-odd": RuntimeError("undecryptable"),
        }
    )
    items = [
        item("ok"),
        item("down"),
        item("gone"),
        item("odd"),
        item("file", "file"),
        item("x", token=""),
    ]
    assert user_data.remove_at_provider(provider, None, items) == ["down", "odd"]
    assert provider.removed == ["tok-ok"]  # a file import or a token-less item is not called
