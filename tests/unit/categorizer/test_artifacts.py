import json
import sys

import pytest

from transactions.categorizer.artifacts import (
    MODEL_NAME,
    LocalArtifactStore,
    S3ArtifactStore,
    default_local_root,
    load_model,
    save_model,
    serialize_model,
    store_from_env,
)
from transactions.categorizer.errors import ArtifactNotFound, ArtifactStoreUnavailable
from transactions.categorizer.features import feature_row

ROW = [feature_row("POS DEBIT STARBUCKS #1 SEATTLE WA", "-4.50", "in store")]


def test_local_round_trip_keeps_predictions_and_version(tmp_path, tiny_model):
    store = LocalArtifactStore(tmp_path)
    assert store.latest(MODEL_NAME) is None
    version = save_model(store, tiny_model, {"held_out": {"accuracy_primary": 0.9}})
    assert version == tiny_model.version and store.latest(MODEL_NAME) == version
    loaded = load_model(store)
    assert loaded.version == tiny_model.version
    assert loaded.predict(ROW)[0] == tiny_model.predict(ROW)[0]
    meta = json.loads((tmp_path / MODEL_NAME / version / "metadata.json").read_text())
    assert meta["report"]["held_out"]["accuracy_primary"] == 0.9


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ArtifactNotFound, match="no 'categorizer' artefact"):
        load_model(LocalArtifactStore(tmp_path))
    with pytest.raises(ArtifactNotFound, match="not found"):
        load_model(LocalArtifactStore(tmp_path), "cat-nope")


def test_tampered_payload_is_refused(tmp_path, tiny_model):
    store = LocalArtifactStore(tmp_path)
    version = save_model(store, tiny_model)
    path = tmp_path / MODEL_NAME / version / "model.joblib"
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(ArtifactNotFound, match="SHA-256"):
        load_model(store)


def test_other_sklearn_version_is_refused(tmp_path, tiny_model):
    store = LocalArtifactStore(tmp_path)
    payload, meta = serialize_model(tiny_model)
    store.put(MODEL_NAME, tiny_model.version, payload, dict(meta, sklearn="0.0.1"))
    with pytest.raises(ArtifactNotFound, match="retrain"):
        load_model(store)


@pytest.mark.parametrize("bad", ["../etc", "", "a/b", ".hidden"])
def test_unsafe_versions_are_refused(tmp_path, bad):
    with pytest.raises(ValueError, match="invalid artefact"):
        LocalArtifactStore(tmp_path).get(MODEL_NAME, bad)


def test_s3_without_boto3_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 -> ImportError
    with pytest.raises(ArtifactStoreUnavailable, match="boto3 is not installed"):
        S3ArtifactStore("models-bucket")


def test_store_from_env(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)
    env = {"NESTEGG_STATE_DIR": str(tmp_path)}
    assert default_local_root(env) == tmp_path / "models"
    assert isinstance(store_from_env(env), LocalArtifactStore)
    assert default_local_root({"NESTEGG_ARTIFACT_DIR": "/srv/m", **env}).as_posix() == "/srv/m"
    with pytest.raises(ArtifactStoreUnavailable):
        store_from_env({"NESTEGG_ARTIFACT_S3_BUCKET": "b"})
