"""Sync netting/chunking/restart, webhook verification, backoff, provider errors, contracts."""

import hashlib
import json
import time
from decimal import Decimal

import jwt
import plaid
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from aggregation.health import Counters
from aggregation.providers.base import ProviderError
from aggregation.providers.plaid_provider import error_from_api_exception
from aggregation.providers.retry import backoff_delays, call_with_retry
from aggregation.sync import SyncChanges, chunk_changes, pull_changes
from aggregation.webhooks import WebhookKeyCache, verify_webhook
from common.contracts.aggregation import dump_event, load_event
from common.errors import Unauthenticated


def txn(tid, amount="1.00"):
    return {
        "transaction_id": tid,
        "account_id": "a",
        "amount": Decimal(amount),
        "date": "2025-01-02",
        "name": "X",
        "pending": False,
    }


class FakePages:
    """A /transactions/sync log served in pages; ``fail_at`` raises a mutation once."""

    def __init__(self, pages, fail_at=None):
        self.pages, self.fail_at, self.calls = pages, fail_at, []

    def __call__(self, cursor, count):
        self.calls.append(cursor)
        index = int(cursor or 0)
        if self.fail_at == index:
            self.fail_at = None
            raise ProviderError(
                "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION", "TRANSACTIONS_ERROR"
            )
        added, modified, removed = self.pages[index]
        return {
            "added": added,
            "modified": modified,
            "removed": removed,
            "accounts": [],
            "next_cursor": str(index + 1),
            "has_more": index + 1 < len(self.pages),
        }


def test_pull_follows_every_page_and_nets_changes():
    pages = FakePages(
        [
            ([txn("t1"), txn("t2"), txn("t3")], [], []),
            ([], [txn("t1", "9.99"), txn("old", "5")], [{"transaction_id": "t2"}]),
            ([], [], [{"transaction_id": "gone"}]),
        ]
    )
    changes = pull_changes(pages, "")
    assert {t["transaction_id"]: t["amount"] for t in changes.added} == {
        "t1": Decimal("9.99"),
        "t3": Decimal("1.00"),
    }
    assert [t["transaction_id"] for t in changes.modified] == ["old"]
    assert [t["transaction_id"] for t in changes.removed] == ["gone"]
    assert changes.next_cursor == "3" and changes.pages == 3


def test_mutation_during_pagination_restarts_from_the_first_cursor():
    pages = FakePages([([txn("a")], [], []), ([txn("b")], [], [])], fail_at=1)
    changes = pull_changes(pages, "")
    assert pages.calls == ["", "1", "", "1"]
    assert changes.restarts == 1 and sorted(t["transaction_id"] for t in changes.added) == [
        "a",
        "b",
    ]


def test_restarts_are_bounded_and_other_errors_propagate():
    class Always(FakePages):
        def __call__(self, cursor, count):
            if cursor:
                raise ProviderError("TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION")
            return super().__call__(cursor, count)

    with pytest.raises(ProviderError):
        pull_changes(Always([([txn("a")], [], []), ([], [], [])]), "", max_restarts=2)
    with pytest.raises(ProviderError, match="ITEM_LOGIN_REQUIRED"):
        pull_changes(lambda c, n: (_ for _ in ()).throw(ProviderError("ITEM_LOGIN_REQUIRED")), "")
    with pytest.raises(ValueError):
        pull_changes(FakePages([]), "", page_size=501)


def test_empty_next_cursor_keeps_the_old_one():
    page = {
        "added": [],
        "modified": [],
        "removed": [],
        "accounts": [],
        "next_cursor": "",
        "has_more": False,
    }
    assert pull_changes(lambda c, n: page, "kept").next_cursor == "kept"


def test_chunks_hold_at_most_500_and_cover_everything():
    changes = SyncChanges(
        added=[{"transaction_id": str(i)} for i in range(1200)],
        removed=[{"transaction_id": f"r{i}"} for i in range(10)],
    )
    pieces = chunk_changes(changes)
    sizes = [sum(len(p[k]) for k in ("added", "modified", "removed")) for p in pieces]
    assert sizes == [500, 500, 210]
    assert chunk_changes(SyncChanges()) == []
    with pytest.raises(ValueError):
        chunk_changes(changes, 0)


def test_backoff_grows_and_is_capped():
    class Top:
        def uniform(self, low, high):
            return high

    assert backoff_delays(6, base=0.5, cap=3, rng=Top()) == [0.5, 1, 2, 3, 3]
    with pytest.raises(ValueError):
        backoff_delays(0)


def test_retry_only_transient_errors():
    slept, attempts = [], []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise ProviderError("RATE_LIMIT_EXCEEDED", "RATE_LIMIT_EXCEEDED", retryable=True)
        return "ok"

    assert call_with_retry(flaky, attempts=4, sleep=slept.append) == "ok"
    assert len(slept) == 2
    with pytest.raises(ProviderError):
        call_with_retry(
            lambda: (_ for _ in ()).throw(ProviderError("ITEM_LOGIN_REQUIRED")), sleep=slept.append
        )
    assert len(slept) == 2  # no retry for a user error

    def down():
        raise ProviderError("INTERNAL_SERVER_ERROR", retryable=True)

    with pytest.raises(ProviderError):
        call_with_retry(down, attempts=3, sleep=slept.append)
    assert len(slept) == 4


@pytest.mark.parametrize(
    "status,body,code,retryable",
    [
        (
            429,
            {"error_type": "RATE_LIMIT_EXCEEDED", "error_code": "TRANSACTIONS_LIMIT"},
            "TRANSACTIONS_LIMIT",
            True,
        ),
        (
            500,
            {"error_type": "API_ERROR", "error_code": "INTERNAL_SERVER_ERROR"},
            "INTERNAL_SERVER_ERROR",
            True,
        ),
        (
            400,
            {
                "error_type": "ITEM_ERROR",
                "error_code": "ITEM_LOGIN_REQUIRED",
                "display_message": "Please update",
            },
            "ITEM_LOGIN_REQUIRED",
            False,
        ),
        (502, "not json", "HTTP_502", True),
    ],
)
def test_plaid_errors_are_classified(status, body, code, retryable):
    exc = plaid.ApiException(status=status, reason="x")
    exc.body = json.dumps(body) if isinstance(body, dict) else body
    error = error_from_api_exception(exc)
    assert (error.error_code, error.retryable) == (code, retryable)
    assert error.needs_login == (code == "ITEM_LOGIN_REQUIRED")


# ------------------------------------------------------------------ webhooks
KEY = ec.generate_private_key(ec.SECP256R1())
KID = "kid-1"


def jwk_for(key, kid=KID):
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "ES256", "expired_at": None}


def sign(body: bytes, *, key=KEY, kid=KID, iat=None, alg="ES256", digest=None):
    claims = {
        "iat": int(time.time() if iat is None else iat),
        "request_body_sha256": digest or hashlib.sha256(body).hexdigest(),
    }
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def keys():
    return WebhookKeyCache(
        lambda kid: jwk_for(KEY) if kid == KID else (_ for _ in ()).throw(KeyError(kid))
    )


BODY = b'{"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE", "item_id": "i"}'


def test_a_signed_webhook_is_accepted_and_the_key_cached():
    cache = keys()
    for _ in range(3):
        payload = verify_webhook({"plaid-verification": sign(BODY)}, BODY.decode(), cache)
    assert payload["item_id"] == "i" and cache.fetches == 1


# Each case is built when the test runs, not at collection: a token dated "now + 600 s" made at
# collection is no longer in the future when a long suite reaches the test.
BAD_WEBHOOKS = {
    "unsigned": lambda: ({}, BODY),
    "body-changed": lambda: ({"Plaid-Verification": sign(BODY)}, BODY.replace(b"SYNC", b"SYNK")),
    "other-key": lambda: (
        {"Plaid-Verification": sign(BODY, key=ec.generate_private_key(ec.SECP256R1()))},
        BODY,
    ),
    "too-old": lambda: ({"Plaid-Verification": sign(BODY, iat=time.time() - 301)}, BODY),
    "from-the-future": lambda: ({"Plaid-Verification": sign(BODY, iat=time.time() + 600)}, BODY),
    "unknown-kid": lambda: ({"Plaid-Verification": sign(BODY, kid="unknown")}, BODY),
    "hs256": lambda: (
        {
            "Plaid-Verification": jwt.encode(
                {"iat": int(time.time())}, "secret", algorithm="HS256", headers={"kid": KID}
            )
        },
        BODY,
    ),
    "not-a-jwt": lambda: ({"Plaid-Verification": "not-a-jwt"}, BODY),
    "wrong-digest": lambda: ({"Plaid-Verification": sign(BODY, digest="0" * 64)}, BODY),
}


@pytest.mark.parametrize("case", BAD_WEBHOOKS)
def test_bad_webhooks_are_unauthenticated(case):
    headers, body = BAD_WEBHOOKS[case]()
    with pytest.raises(Unauthenticated):
        verify_webhook(headers, body, keys())


# ------------------------------------------------------------------ contracts and counters
def test_event_contract_round_trip_keeps_decimals_exact():
    data = {
        "user_id": "u",
        "item_id": "i",
        "provider": "plaid",
        "sync_id": "s",
        "sequence": 1,
        "chunk": 1,
        "chunks": 1,
        "accounts": [],
        "added": [{**txn("t", "0.10"), "date": __import__("datetime").date(2025, 1, 2)}],
        "modified": [],
        "removed": [],
    }
    plain = dump_event("transactions_synced", data)
    assert plain["added"][0]["amount"] == "0.10"
    assert load_event("transactions_synced", json.loads(json.dumps(plain)))["added"][0][
        "amount"
    ] == Decimal("0.10")
    with pytest.raises(ValueError):
        dump_event("transactions_synced", {**data, "sequence": 0})


def test_counters_only_go_up():
    counters = Counters()
    counters.inc("a")
    counters.inc("a", 2)
    assert counters.snapshot() == {"a": 3}
    with pytest.raises(ValueError):
        counters.inc("a", -1)
