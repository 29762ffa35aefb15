"""Key providers: ``local`` (keyring file, default) and ``vault`` (Vault/OpenBao Transit)."""

from common.crypto.providers.base import KeyProvider, ProviderStatus
from common.crypto.providers.factory import get_key_provider, key_provider_from_env
from common.crypto.providers.local import LocalKeyProvider
from common.crypto.providers.vault import VaultKeyProvider

__all__ = [
    "KeyProvider",
    "LocalKeyProvider",
    "ProviderStatus",
    "VaultKeyProvider",
    "get_key_provider",
    "key_provider_from_env",
]
