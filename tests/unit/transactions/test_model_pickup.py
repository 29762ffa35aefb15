"""A transactions service started before any model was trained picks one up later."""

from transactions import categorization
from transactions.categorizer import artifacts
from transactions.categorizer.errors import ArtifactNotFound


def test_a_model_stored_after_start_is_loaded_on_a_later_call(monkeypatch):
    sentinel = object()
    answers = [ArtifactNotFound("none yet"), sentinel]

    def fake_load_model(store, version=None):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(artifacts, "load_model", fake_load_model)
    monkeypatch.setattr(artifacts, "store_from_env", lambda: None)
    categorizer = categorization.Categorizer()
    assert categorizer.engine().model is None
    assert categorizer.engine().model is None  # not retried within the retry interval
    monkeypatch.setattr(categorization.Categorizer, "MODEL_RETRY_SECONDS", 0.0)
    assert categorizer.engine().model is sentinel
    assert answers == []


def test_an_injected_engine_is_never_replaced():
    engine = categorization.CategorizationEngine(None)
    categorizer = categorization.Categorizer(engine)
    categorizer.MODEL_RETRY_SECONDS = 0.0
    assert categorizer.engine() is engine
