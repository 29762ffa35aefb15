"""The auth store on real Redis: atomic single use of codes and refresh tokens under
concurrency, TTLs as Redis sees them, nothing secret stored in the clear."""

import threading
import uuid

import pytest
import redis as redis_lib

from gateway.auth.storage import AuthStore, RedisBackend, digest


@pytest.fixture
def client():
    c = redis_lib.Redis.from_url("redis://127.0.0.1:6379/0")
    c.ping()
    yield c
    c.close()


@pytest.fixture
def store(client):
    return AuthStore(RedisBackend(client))


def _race(n, fn):
    results, barrier = [], threading.Barrier(n)

    def run():
        barrier.wait()
        results.append(fn())

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_a_code_is_taken_exactly_once_by_twenty_concurrent_callers(store):
    code = uuid.uuid4().hex
    store.save_code(code, {"user": "u"}, 60)
    results = _race(20, lambda: store.take_code(code))
    assert sum(r is not None for r in results) == 1


def test_a_refresh_token_rotates_exactly_once_under_concurrency(store):
    fid = store.create_family(
        {"user_id": f"u-{uuid.uuid4().hex}", "client_id": "c"}, absolute_ttl=60
    )
    rt = store.new_refresh_token(fid, previous=None)
    results = _race(20, lambda: store.new_refresh_token(fid, previous=digest(rt)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert store.family(fid)["current"] == digest(winners[0])


def test_ttls_and_hashed_keys(store, client):
    code = "the-code-" + uuid.uuid4().hex
    store.save_code(code, {"x": 1}, 600)
    assert client.get(f"nestegg:auth:code:{digest(code)}") is not None
    assert not client.keys(f"*{code}*")
    assert 590 < client.ttl(f"nestegg:auth:code:{digest(code)}") <= 600
    import time

    jti = uuid.uuid4().hex
    store.deny(jti, int(time.time()) + 300)
    assert 350 < client.ttl(f"nestegg:auth:deny:{jti}") <= 360
    fid = store.create_family(
        {"user_id": f"u-{uuid.uuid4().hex}", "client_id": "c"}, absolute_ttl=3600
    )
    rt = store.new_refresh_token(fid, previous=None)
    assert 3590 < client.ttl(f"nestegg:auth:refresh:{digest(rt)}") <= 3600
    assert not client.keys(f"*{rt}*")


def test_revoked_family_and_user_sets(store):
    user = f"u-{uuid.uuid4().hex}"
    fids = [
        store.create_family({"user_id": user, "client_id": "c"}, absolute_ttl=60) for _ in range(3)
    ]
    for i, fid in enumerate(fids):
        store.add_access_token(fid, f"j{i}-{user}", int(__import__("time").time()) + 100)
    assert store.revoke_user(user) == 3
    assert all(store.is_family_revoked(f) for f in fids)
    assert all(store.is_denied(f"j{i}-{user}") for i in range(3))
