"""``suggest_category``: the categoriser's answer for a transaction that is not stored, through
the same layers as ingestion (this user's rules, then their corrections, then the model)."""

import pytest

from common.errors import ValidationFailed

pytestmark = pytest.mark.integration


def ask(rpc, token, description, amount="-30.00", **extra):
    return rpc.suggest_category(token, {"description": description, "amount": amount, **extra})


def test_rules_then_corrections_then_the_model_for_this_user_only(rpc, tokens, user, sync, txn, db):
    other = user + "-other"
    rpc.create_rule(
        tokens(user), {"category": "FOOD_AND_DRINK_COFFEE", "description_contains": "brewlab"}
    )
    by_rule = ask(rpc, tokens(user), "POS ZYX BREWLAB 0042", "-4.50")
    assert by_rule["source"] == "rule" and by_rule["category_detailed"] == "FOOD_AND_DRINK_COFFEE"
    assert by_rule["rule_id"] and by_rule["confidence"] == 1.0

    sync(user, [txn("s-1", "30.00", name="ACME SUPPLY CO 4411")])
    (row,) = db("SELECT id FROM transactions WHERE user_id = :u", u=user)
    rpc.update_transaction(tokens(user), row["id"], {"category": "HOME_IMPROVEMENT_HARDWARE"})
    corrected = ask(rpc, tokens(user), "ACME SUPPLY CO 7777")
    assert corrected["source"] == "correction"
    assert corrected["category_detailed"] == "HOME_IMPROVEMENT_HARDWARE"

    theirs = ask(rpc, tokens(other), "ACME SUPPLY CO 7777")  # not another user's rules
    assert theirs["source"] in ("model", "none") and theirs["rule_id"] is None
    assert ask(rpc, tokens(other), "POS ZYX BREWLAB 0042", "-4.50")["source"] != "rule"
    assert db("SELECT 1 FROM transactions WHERE user_id = :u", u=other) == []  # nothing stored


@pytest.mark.parametrize(
    "payload",
    [
        {"description": "", "amount": "-1.00"},
        {"description": "X", "amount": "abc"},
        {"description": "X", "amount": 1.5},
        {"description": "X"},
        {"description": "X", "amount": "-1", "payment_channel": "carrier pigeon"},
        {"description": "X", "amount": "-1", "user_id": "someone-else"},
    ],
)
def test_bad_input_is_refused(rpc, tokens, user, payload):
    with pytest.raises(ValidationFailed):
        rpc.suggest_category(tokens(user), payload)


def test_model_answers_are_cached_in_redis_by_model_version(rpc, tokens, user, service):
    from transactions import service as module

    engine = module._categorizer.engine()
    if engine.model is None:
        pytest.skip("no trained model in this deployment's artefact store")
    before = dict(engine.stats)
    first = ask(rpc, tokens(user), "CHECKCARD 0412 QWERTY FUEL 0099 DALLAS TX", "-38.20")
    again = ask(rpc, tokens(user), "CHECKCARD 0413 QWERTY FUEL 0099 DALLAS TX", "-38.20")
    assert first == again
    assert engine.stats["cache_hits"] >= before["cache_hits"] + 1
    import redis

    from common import config

    client = redis.Redis.from_url(config.load().redis_url)
    assert client.keys(f"nestegg:cat:{engine.model_version}:*")
