"""Locally generated service credentials (database role and broker user passwords).

The runner generates one random password per principal on first use and keeps them in
``$NESTEGG_STATE_DIR/credentials.json`` (mode 0600, outside git). Production deployments
pass explicit ``NESTEGG_<SERVICE>_DATABASE_URL`` / ``..._AMQP_URI`` instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from pathlib import Path

from common.config import state_dir


def _path() -> Path:
    return state_dir() / "credentials.json"


def secret_for(name: str) -> str:
    """Return the password stored under ``name``, generating it atomically on first use."""
    path = _path()
    lock_path = path.with_suffix(".lock")
    with open(lock_path, "a+") as lock:
        os.chmod(lock_path, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(path.read_text()) if path.exists() else {}
            if name not in data:
                data[name] = secrets.token_urlsafe(24)
                tmp = path.with_suffix(".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    json.dump(data, fh, indent=1, sort_keys=True)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            return data[name]
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
