"""The S3 artefact store through boto3 against an S3-compatible HTTP server (moto's server
mode, started on a free port: real HTTP, real botocore signing and error parsing)."""

import socket

import pytest

boto3 = pytest.importorskip("boto3")
from moto.server import ThreadedMotoServer  # noqa: E402

from transactions.categorizer.artifacts import (  # noqa: E402
    MODEL_NAME,
    S3ArtifactStore,
    load_model,
    save_model,
    store_from_env,
)
from transactions.categorizer.errors import (  # noqa: E402
    ArtifactNotFound,
    ArtifactStoreUnavailable,
)
from transactions.categorizer.features import feature_row  # noqa: E402
from transactions.categorizer.model import ModelParams, fit_model  # noqa: E402

ROW = [feature_row("POS DEBIT STARBUCKS #1234 SEATTLE WA", "-4.50", "in store")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint(monkeypatch_module):
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret",  # noqa: S105 - moto accepts any
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch_module.setenv(name, value)
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def bucket(endpoint):
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="nestegg-models")
    return "nestegg-models"


@pytest.fixture(scope="module")
def model():
    from transactions.categorizer.corpus_gen import load_corpus

    wanted = {"FOOD_AND_DRINK_COFFEE", "TRANSPORTATION_GAS", "INCOME_SALARY"}
    rows = [r for r in load_corpus() if r["category_detailed"] in wanted and r["family"] == "A"]
    features = [feature_row(r["description"], r["amount"], r["payment_channel"]) for r in rows]
    labels = [r["category_detailed"] for r in rows]
    return fit_model(features, labels, [r["merchant"] for r in rows], ModelParams(seed=0))


def test_round_trip_through_env_configuration(endpoint, bucket, model):
    store = store_from_env(
        {
            "NESTEGG_ARTIFACT_S3_BUCKET": bucket,
            "NESTEGG_ARTIFACT_S3_PREFIX": "team/models",
            "NESTEGG_ARTIFACT_S3_ENDPOINT_URL": endpoint,
        }
    )
    assert isinstance(store, S3ArtifactStore)
    assert store.latest(MODEL_NAME) is None
    with pytest.raises(ArtifactNotFound):
        load_model(store)
    save_model(store, model)
    keys = {
        o["Key"]
        for o in boto3.client("s3", endpoint_url=endpoint).list_objects_v2(Bucket=bucket)[
            "Contents"
        ]
    }
    assert {
        f"team/models/{MODEL_NAME}/LATEST",
        f"team/models/{MODEL_NAME}/{model.version}/model.joblib",
        f"team/models/{MODEL_NAME}/{model.version}/metadata.json",
    } <= keys
    loaded = load_model(store)
    assert loaded.version == model.version
    assert loaded.predict(ROW)[0] == model.predict(ROW)[0]
    assert loaded.predict(ROW)[0].detailed == "FOOD_AND_DRINK_COFFEE"
    with pytest.raises(ArtifactNotFound):
        load_model(store, "cat-00000000-000000000000")


def test_a_tampered_payload_is_refused(endpoint, bucket, model):
    store = S3ArtifactStore(bucket, "tamper", endpoint_url=endpoint)
    save_model(store, model)
    client = boto3.client("s3", endpoint_url=endpoint)
    key = f"tamper/{MODEL_NAME}/{model.version}/model.joblib"
    client.put_object(Bucket=bucket, Key=key, Body=b"not the model")
    with pytest.raises(ArtifactNotFound, match="does not match its recorded SHA-256"):
        load_model(store)


def test_missing_bucket_and_dead_endpoint_are_clear_errors(endpoint, model):
    with pytest.raises(ArtifactStoreUnavailable, match="NoSuchBucket"):
        save_model(S3ArtifactStore("no-such-bucket", endpoint_url=endpoint), model)
    dead = f"http://127.0.0.1:{free_port()}"
    store = S3ArtifactStore("nestegg-models", endpoint_url=dead)
    store.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(ArtifactStoreUnavailable, match="s3://nestegg-models"):
        store.latest(MODEL_NAME)
