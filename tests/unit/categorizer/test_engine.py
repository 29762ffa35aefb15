import pytest

from transactions.categorizer.cache import DictCache
from transactions.categorizer.corrections import record_correction
from transactions.categorizer.engine import CategorizationEngine
from transactions.categorizer.errors import CategorizerError, InvalidTransaction
from transactions.categorizer.features import feature_row
from transactions.categorizer.rules import Rule

COFFEE = {
    "user_id": "alice",
    "account_id": "chk",
    "description": "POS DEBIT STARBUCKS #1234 SEATTLE WA",
    "amount": "-4.75",
    "payment_channel": "in store",
}


def test_model_layer_tags_its_source(tiny_model):
    result = CategorizationEngine(tiny_model).categorize(COFFEE)
    assert result["source"] == "model"
    assert result["category_detailed"] == "FOOD_AND_DRINK_COFFEE"
    assert result["category_primary"] == "FOOD_AND_DRINK"
    assert 0.5 <= result["confidence"] <= 1.0
    assert result["merchant_key"] == "starbucks"
    assert result["model_version"] == tiny_model.version


def test_rule_beats_correction_beats_model(tiny_model):
    engine = CategorizationEngine(tiny_model)
    memory = record_correction(
        {}, "alice", "STARBUCKS 0042 PORTLAND OR", "FOOD_AND_DRINK_RESTAURANT"
    )
    rule = Rule(
        id="work-coffee",
        category_detailed="GENERAL_SERVICES_OTHER_GENERAL_SERVICES",
        account_ids=("chk",),
        description_contains="starbucks",
    )
    by_rule = engine.categorize(COFFEE, rules=[rule], corrections=memory)
    assert (by_rule["source"], by_rule["rule_id"]) == ("rule", "work-coffee")
    assert by_rule["category_detailed"] == "GENERAL_SERVICES_OTHER_GENERAL_SERVICES"
    by_correction = engine.categorize(
        dict(COFFEE, account_id="card"), rules=[rule], corrections=memory
    )
    assert by_correction["source"] == "correction"
    assert by_correction["category_detailed"] == "FOOD_AND_DRINK_RESTAURANT"
    other_user = engine.categorize(
        dict(COFFEE, user_id="bob", account_id="card"), rules=[rule], corrections=memory
    )
    assert other_user["source"] == "model"
    assert other_user["category_detailed"] == "FOOD_AND_DRINK_COFFEE"


def test_rules_may_be_plain_dicts(tiny_model):
    result = CategorizationEngine(tiny_model).categorize(
        COFFEE, rules=[{"id": "r", "category_detailed": "TRAVEL_OTHER_TRAVEL", "direction": "out"}]
    )
    assert result["category_detailed"] == "TRAVEL_OTHER_TRAVEL"


def test_low_confidence_leaves_uncategorised_with_suggestions(tiny_model):
    txn = {"description": "MISC PURCHASE QX 7781", "amount": "-42.00"}
    prediction = tiny_model.predict([feature_row(txn["description"], txn["amount"])], top_k=3)[0]
    above = CategorizationEngine(tiny_model, min_confidence=min(prediction.confidence + 0.01, 1.0))
    result = above.categorize(txn)
    assert result["source"] == "none"
    assert result["category_detailed"] is None and result["category_primary"] is None
    assert [s["category_detailed"] for s in result["suggestions"]] == [d for d, _ in prediction.top]
    assert result["suggestions"][0]["confidence"] == pytest.approx(prediction.confidence, abs=1e-4)
    below = CategorizationEngine(tiny_model, min_confidence=max(prediction.confidence - 0.01, 0.0))
    assert below.categorize(txn)["category_detailed"] == prediction.detailed


def test_batch_matches_single_calls(tiny_model):
    engine = CategorizationEngine(tiny_model)
    txns = [
        COFFEE,
        {"description": "SHELL OIL 57444 HOUSTON TX", "amount": "-40.00"},
        {"description": "DIRECT DEP ACME CORP PAYROLL", "amount": "2500.00"},
    ]
    assert engine.categorize_many(txns) == [engine.categorize(t) for t in txns]


def test_bad_transaction_names_its_position(tiny_model):
    engine = CategorizationEngine(tiny_model)
    with pytest.raises(InvalidTransaction, match="transaction 2: amount"):
        engine.categorize_many([COFFEE, {"description": "X", "amount": "lots"}])
    with pytest.raises(InvalidTransaction, match="transaction 1: description is required"):
        engine.categorize_many([{"amount": "1"}])
    with pytest.raises(InvalidTransaction, match="transaction 1: amount"):
        engine.categorize({"description": "X", "amount": 1.25})


def test_no_model_is_a_clear_error_but_rules_still_work():
    engine = CategorizationEngine(None)
    rule = Rule(id="r", category_detailed="FOOD_AND_DRINK_COFFEE", description_contains="starbucks")
    assert engine.categorize(COFFEE, rules=[rule])["source"] == "rule"
    with pytest.raises(CategorizerError, match="no categorisation model"):
        engine.categorize(COFFEE)


def test_invalid_engine_settings():
    with pytest.raises(ValueError, match="min_confidence"):
        CategorizationEngine(None, min_confidence=1.5)
    with pytest.raises(ValueError, match="top_k"):
        CategorizationEngine(None, top_k=0)


def test_cache_is_used_and_gives_the_same_answer(tiny_model):
    cache = DictCache()
    engine = CategorizationEngine(tiny_model, cache=cache)
    first = engine.categorize(COFFEE)
    second = engine.categorize(
        dict(COFFEE, description="VIS STARBUCKS 0099 LONDON", amount="-4.20")
    )
    assert engine.stats["cache_misses"] == 1 and engine.stats["cache_hits"] == 1
    assert first["category_detailed"] == second["category_detailed"]
    assert first["confidence"] == second["confidence"]
    assert all(key.startswith(f"nestegg:cat:{tiny_model.version}:") for key in cache._data)


class BrokenCache:
    def get_many(self, keys):
        raise ConnectionError("redis down")

    def set_many(self, items):
        raise ConnectionError("redis down")


def test_cache_outage_does_not_stop_categorisation(tiny_model):
    engine = CategorizationEngine(tiny_model, cache=BrokenCache())
    assert engine.categorize(COFFEE)["category_detailed"] == "FOOD_AND_DRINK_COFFEE"
    assert engine.stats["cache_errors"] == 2
