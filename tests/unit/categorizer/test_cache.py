import json

import pytest

from transactions.categorizer.cache import KEY_PREFIX, DictCache, RedisCache, cache_key


def test_key_contains_prefix_and_version_and_depends_on_input():
    a = cache_key("cat-v1", "-1|3|in store|starbucks")
    assert a.startswith(KEY_PREFIX + "cat-v1:")
    assert a != cache_key("cat-v2", "-1|3|in store|starbucks")
    assert a != cache_key("cat-v1", "-1|4|in store|starbucks")


def test_dict_cache_is_lru_bounded():
    cache = DictCache(max_entries=2)
    cache.set_many({"a": {"d": 1}, "b": {"d": 2}})
    cache.get_many(["a"])
    cache.set_many({"c": {"d": 3}})
    assert cache.get_many(["a", "b", "c"]) == {"a": {"d": 1}, "c": {"d": 3}}
    with pytest.raises(ValueError):
        DictCache(max_entries=0)


class FakeRedis:
    """Just the two calls RedisCache makes, recorded."""

    def __init__(self):
        self.store, self.expiry = {}, {}

    def mget(self, keys):
        return [self.store.get(k) for k in keys]

    def pipeline(self, transaction=False):
        outer = self

        class Pipe:
            def __init__(self):
                self.ops = []

            def set(self, key, value, ex=None):
                self.ops.append((key, value, ex))

            def execute(self):
                for key, value, ex in self.ops:
                    outer.store[key] = value.encode()
                    outer.expiry[key] = ex

        return Pipe()


def test_redis_cache_round_trip_with_ttl():
    fake = FakeRedis()
    cache = RedisCache(client=fake, ttl=60)
    cache.set_many({"nestegg:cat:v:1": {"d": "FOOD_AND_DRINK_COFFEE", "c": 0.9}})
    assert json.loads(fake.store["nestegg:cat:v:1"]) == {"d": "FOOD_AND_DRINK_COFFEE", "c": 0.9}
    assert fake.expiry["nestegg:cat:v:1"] == 60
    assert cache.get_many(["nestegg:cat:v:1", "nestegg:cat:v:2"]) == {
        "nestegg:cat:v:1": {"d": "FOOD_AND_DRINK_COFFEE", "c": 0.9}
    }
    assert cache.get_many([]) == {}
    with pytest.raises(ValueError, match="ttl"):
        RedisCache(client=fake, ttl=0)


def test_redis_cache_keys_are_keyed_hmacs_when_a_secret_is_given():
    fake = FakeRedis()
    key = "nestegg:cat:v1:" + "0" * 32
    RedisCache(client=fake, ttl=60, key_secret=b"k" * 32).set_many({key: {"d": "X"}})
    (stored,) = fake.store
    assert stored.startswith("nestegg:cat:v1:") and stored != key
    assert RedisCache(client=fake, ttl=60, key_secret=b"k" * 32).get_many([key]) == {
        key: {"d": "X"}
    }
    assert RedisCache(client=fake, ttl=60, key_secret=b"j" * 32).get_many([key]) == {}
    assert RedisCache(client=fake, ttl=60).get_many([key]) == {}
