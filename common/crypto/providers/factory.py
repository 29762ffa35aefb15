"""Choose and build the key provider from environment variables (twelve-factor).

NESTEGG_KEY_PROVIDER      local (default) | vault
NESTEGG_STATE_DIR         local keyring directory (default <repo>/.nestegg, gitignored)
NESTEGG_VAULT_ADDR        e.g. https://vault.internal:8200 (default http://127.0.0.1:8200)
NESTEGG_VAULT_TOKEN       a token, or AppRole:
NESTEGG_VAULT_ROLE_ID / NESTEGG_VAULT_SECRET_ID
NESTEGG_VAULT_MOUNT       transit mount (default transit)
NESTEGG_VAULT_KEY         transit KEK name (default nestegg-kek)
NESTEGG_VAULT_KV_MOUNT    KV v2 mount for named secrets (default secret)
NESTEGG_VAULT_KV_PREFIX   path prefix inside it (default nestegg)
NESTEGG_VAULT_TIMEOUT     seconds per call (default 5)
NESTEGG_VAULT_CACERT      CA bundle path for TLS verification (default: system store)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from common.crypto.providers.base import KeyProvider
from common.crypto.providers.local import LocalKeyProvider
from common.crypto.providers.vault import VaultKeyProvider

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_STATE_DIR = REPO_ROOT / ".nestegg"

_cache: dict[tuple, KeyProvider] = {}
_cache_lock = threading.Lock()


def _config_key(env: Mapping[str, str]) -> tuple:
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith("NESTEGG_")))


def key_provider_from_env(env: Mapping[str, str] | None = None) -> KeyProvider:
    """Build a new provider from ``env`` (default ``os.environ``)."""
    env = os.environ if env is None else env
    kind = env.get("NESTEGG_KEY_PROVIDER", "local").strip().lower() or "local"
    if kind == "local":
        return LocalKeyProvider(env.get("NESTEGG_STATE_DIR") or DEFAULT_STATE_DIR)
    if kind == "vault":
        raw_timeout = env.get("NESTEGG_VAULT_TIMEOUT", "5")
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise ValueError(
                f"NESTEGG_VAULT_TIMEOUT must be seconds, got {raw_timeout!r}"
            ) from None
        return VaultKeyProvider(
            env.get("NESTEGG_VAULT_ADDR", "http://127.0.0.1:8200"),
            token=env.get("NESTEGG_VAULT_TOKEN") or None,
            role_id=env.get("NESTEGG_VAULT_ROLE_ID") or None,
            secret_id=env.get("NESTEGG_VAULT_SECRET_ID") or None,
            transit_mount=env.get("NESTEGG_VAULT_MOUNT", "transit"),
            key_name=env.get("NESTEGG_VAULT_KEY", "nestegg-kek"),
            kv_mount=env.get("NESTEGG_VAULT_KV_MOUNT", "secret"),
            kv_prefix=env.get("NESTEGG_VAULT_KV_PREFIX", "nestegg"),
            timeout=timeout,
            verify=env.get("NESTEGG_VAULT_CACERT") or True,
        )
    raise ValueError(f"NESTEGG_KEY_PROVIDER must be 'local' or 'vault', got {kind!r}")


def get_key_provider(env: Mapping[str, str] | None = None) -> KeyProvider:
    """The process-wide provider for the current configuration (built once per config)."""
    env = os.environ if env is None else env
    key = _config_key(env)
    with _cache_lock:
        provider = _cache.get(key)
        if provider is None:
            provider = key_provider_from_env(env)
            _cache[key] = provider
        return provider
