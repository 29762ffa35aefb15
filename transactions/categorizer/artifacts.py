"""Versioned artefact store for trained models: a local directory, or S3 when configured.

Layout (both backends): ``<root>/<name>/<version>/model.joblib`` and ``metadata.json``, plus
``<root>/<name>/LATEST`` naming the newest version. ``metadata.json`` records the payload's
SHA-256, checked on load, and the scikit-learn version; a model pickled by another
scikit-learn version is refused (retrain instead of loading something subtly different).

Configuration (twelve-factor):
- ``NESTEGG_ARTIFACT_S3_BUCKET`` (+ optional ``NESTEGG_ARTIFACT_S3_PREFIX``, and
  ``NESTEGG_ARTIFACT_S3_ENDPOINT_URL`` for an S3-compatible store such as MinIO or Ceph): use S3
  via boto3 (credentials from boto3's usual chain: environment, profile, instance role),
  imported only then; if boto3 is not installed, ``ArtifactStoreUnavailable`` says so, as it
  does when the bucket is missing or the endpoint cannot be reached.
- else ``NESTEGG_ARTIFACT_DIR``, else ``$NESTEGG_STATE_DIR/models`` (default ``.nestegg/models``).

Artefacts are pickles: load them only from a store you control (the hash guards against
corruption, not against a malicious writer).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import joblib
import sklearn

from transactions.categorizer.errors import ArtifactNotFound, ArtifactStoreUnavailable
from transactions.categorizer.model import CategorizerModel, ModelParams

MODEL_NAME = "categorizer"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
REPO_ROOT = Path(__file__).resolve().parents[2]


def _check_name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _SAFE.match(value):
        raise ValueError(f"invalid artefact {kind} {value!r}")
    return value


class ArtifactStore(Protocol):
    def put(self, name: str, version: str, payload: bytes, metadata: Mapping[str, Any]) -> None: ...

    def get(self, name: str, version: str | None = None) -> tuple[bytes, dict[str, Any]]: ...

    def latest(self, name: str) -> str | None: ...


class LocalArtifactStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _dir(self, name: str, version: str) -> Path:
        return self.root / _check_name("name", name) / _check_name("version", version)

    @staticmethod
    def _atomic_write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put(self, name: str, version: str, payload: bytes, metadata: Mapping[str, Any]) -> None:
        folder = self._dir(name, version)
        self._atomic_write(folder / "model.joblib", payload)
        self._atomic_write(folder / "metadata.json", json.dumps(metadata, indent=2).encode())
        self._atomic_write(self.root / name / "LATEST", version.encode())

    def latest(self, name: str) -> str | None:
        marker = self.root / _check_name("name", name) / "LATEST"
        return marker.read_text().strip() if marker.exists() else None

    def get(self, name: str, version: str | None = None) -> tuple[bytes, dict[str, Any]]:
        if version is None:
            version = self.latest(name)
        if version is None:
            raise ArtifactNotFound(f"no {name!r} artefact in {self.root}")
        folder = self._dir(name, version)
        if not (folder / "model.joblib").exists():
            raise ArtifactNotFound(f"artefact {name} {version} not found in {self.root}")
        metadata = json.loads((folder / "metadata.json").read_text())
        return (folder / "model.joblib").read_bytes(), metadata


class S3ArtifactStore:
    def __init__(
        self,
        bucket: str,
        prefix: str = "nestegg/models",
        client: Any = None,
        *,
        endpoint_url: str | None = None,
    ):
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        if client is None:
            try:
                import boto3
            except ImportError:
                raise ArtifactStoreUnavailable(
                    "NESTEGG_ARTIFACT_S3_BUCKET is set but boto3 is not installed; "
                    "install boto3 or unset the variable to use the local store"
                ) from None
            client = boto3.client("s3", endpoint_url=endpoint_url or None)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def _key(self, *parts: str) -> str:
        return "/".join([self.prefix, *parts]) if self.prefix else "/".join(parts)

    def put(self, name: str, version: str, payload: bytes, metadata: Mapping[str, Any]) -> None:
        _check_name("name", name)
        _check_name("version", version)
        # payload and metadata first, LATEST last: a reader never sees a half-written version
        self._write(self._key(name, version, "model.joblib"), payload)
        self._write(self._key(name, version, "metadata.json"), json.dumps(metadata).encode())
        self._write(self._key(name, "LATEST"), version.encode())

    def _unavailable(self, exc: Exception) -> ArtifactStoreUnavailable:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
        return ArtifactStoreUnavailable(f"s3://{self.bucket}/{self.prefix}: {code}")

    def _write(self, key: str, body: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
        except Exception as exc:  # botocore's ClientError / EndpointConnectionError
            raise self._unavailable(exc) from None

    def _read(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return response["Body"].read()
        except Exception as exc:  # botocore's NoSuchKey is generated per client
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404") or type(exc).__name__ == "NoSuchKey":
                return None
            raise self._unavailable(exc) from None

    def latest(self, name: str) -> str | None:
        raw = self._read(self._key(_check_name("name", name), "LATEST"))
        return None if raw is None else raw.decode().strip()

    def get(self, name: str, version: str | None = None) -> tuple[bytes, dict[str, Any]]:
        if version is None:
            version = self.latest(name)
        if version is None:
            raise ArtifactNotFound(f"no {name!r} artefact in s3://{self.bucket}/{self.prefix}")
        payload = self._read(self._key(name, _check_name("version", version), "model.joblib"))
        meta = self._read(self._key(name, version, "metadata.json"))
        if payload is None or meta is None:
            raise ArtifactNotFound(f"artefact {name} {version} not found in s3://{self.bucket}")
        return payload, json.loads(meta)


def default_local_root(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get("NESTEGG_ARTIFACT_DIR"):
        return Path(environ["NESTEGG_ARTIFACT_DIR"])
    state = environ.get("NESTEGG_STATE_DIR") or str(REPO_ROOT / ".nestegg")
    return Path(state) / "models"


def store_from_env(environ: Mapping[str, str] | None = None) -> ArtifactStore:
    environ = os.environ if environ is None else environ
    bucket = environ.get("NESTEGG_ARTIFACT_S3_BUCKET")
    if bucket:
        return S3ArtifactStore(
            bucket,
            environ.get("NESTEGG_ARTIFACT_S3_PREFIX", "nestegg/models"),
            endpoint_url=environ.get("NESTEGG_ARTIFACT_S3_ENDPOINT_URL"),
        )
    return LocalArtifactStore(default_local_root(environ))


def serialize_model(model: CategorizerModel, report: Mapping[str, Any] | None = None):
    """(payload bytes, metadata dict) for a model."""
    buffer = io.BytesIO()
    joblib.dump(
        {
            "features": model.features,
            "classifier": model.classifier,
            "temperature": model.temperature,
            "params": asdict(model.params),
            "data_hash": model.data_hash,
            "meta": model.meta,
        },
        buffer,
        compress=3,
    )
    payload = buffer.getvalue()
    metadata = {
        "name": MODEL_NAME,
        "version": model.version,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "sklearn": sklearn.__version__,
        "params": asdict(model.params),
        "data_hash": model.data_hash,
        "report": dict(report or {}),
    }
    return payload, metadata


def deserialize_model(payload: bytes, metadata: Mapping[str, Any]) -> CategorizerModel:
    digest = hashlib.sha256(payload).hexdigest()
    if digest != metadata.get("sha256"):
        raise ArtifactNotFound("artefact payload does not match its recorded SHA-256; refusing it")
    if metadata.get("sklearn") != sklearn.__version__:
        raise ArtifactNotFound(
            f"artefact was built with scikit-learn {metadata.get('sklearn')}, this is "
            f"{sklearn.__version__}; retrain with `nestegg categorizer train`"
        )
    data = joblib.load(io.BytesIO(payload))
    params = ModelParams(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in data["params"].items()}
    )
    model = CategorizerModel(
        data["features"],
        data["classifier"],
        data["temperature"],
        params,
        data["data_hash"],
        data["meta"],
    )
    if model.version != metadata.get("version"):
        raise ArtifactNotFound(
            f"artefact version {metadata.get('version')} does not match its content "
            f"({model.version})"
        )
    return model


def save_model(
    store: ArtifactStore, model: CategorizerModel, report: Mapping[str, Any] | None = None
) -> str:
    payload, metadata = serialize_model(model, report)
    store.put(MODEL_NAME, model.version, payload, metadata)
    return model.version


def load_model(store: ArtifactStore, version: str | None = None) -> CategorizerModel:
    """The given (default: latest) model; ArtifactNotFound if there is none."""
    payload, metadata = store.get(MODEL_NAME, version)
    return deserialize_model(payload, metadata)
