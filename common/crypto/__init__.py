"""Field encryption: AES-256-GCM envelope encryption, blind indexes, key providers, rotation.

See docs/encryption.md. The names services use:
"""

from common.crypto.blind_index import blind_index, index_matches, normalise
from common.crypto.context import CipherContext
from common.crypto.errors import (
    CryptoError,
    DecryptionError,
    KeyProviderError,
    KeyProviderUnavailable,
    KeyringError,
    MalformedTokenError,
)
from common.crypto.field_cipher import FieldCipher
from common.crypto.jwt_keys import SigningKeyPair
from common.crypto.providers import (
    KeyProvider,
    LocalKeyProvider,
    VaultKeyProvider,
    get_key_provider,
    key_provider_from_env,
)
from common.crypto.registry import (
    register_database_url_resolver,
    register_encrypted_columns,
    register_model_columns,
)
from common.crypto.rotation import MappingRewrapSource, RotationReport, rotate_and_rewrap

__all__ = [
    "CipherContext",
    "CryptoError",
    "DecryptionError",
    "FieldCipher",
    "KeyProvider",
    "KeyProviderError",
    "KeyProviderUnavailable",
    "KeyringError",
    "LocalKeyProvider",
    "MalformedTokenError",
    "MappingRewrapSource",
    "RotationReport",
    "SigningKeyPair",
    "VaultKeyProvider",
    "blind_index",
    "get_key_provider",
    "index_matches",
    "key_provider_from_env",
    "normalise",
    "register_database_url_resolver",
    "register_encrypted_columns",
    "register_model_columns",
    "rotate_and_rewrap",
]
