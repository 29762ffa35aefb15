"""Secrets and field encryption for the users service, all from the configured key provider.

Nothing here is stored in the database: the password pepper, the e-mail blind-index key and
the recovery-code key live in the key provider (local keyring or Vault), so a copy of the
database alone reveals no password, e-mail address or recovery code.
"""

from __future__ import annotations

import hashlib

from common.crypto import CipherContext, FieldCipher, get_key_provider
from users.recovery_codes import KEY_SECRET_NAME

EMAIL_INDEX_PURPOSE = "users.email"


def provider():
    return get_key_provider()


def cipher() -> FieldCipher:
    return FieldCipher(provider())


def pepper() -> bytes:
    return provider().password_pepper()


def recovery_key() -> bytes:
    return provider().secret(KEY_SECRET_NAME)


def email_index(email: str) -> str:
    return cipher().blind_index(EMAIL_INDEX_PURPOSE, email)


def encrypt(table: str, column: str, row_id: str, value: str | None) -> str | None:
    if value is None:
        return None
    return cipher().encrypt(value, ctx=CipherContext(table=table, column=column, row_id=row_id))


def decrypt(table: str, column: str, row_id: str, token: str | None) -> str | None:
    if token is None:
        return None
    return cipher().decrypt(token, ctx=CipherContext(table=table, column=column, row_id=row_id))


def token_hash(token: str) -> str:
    """SHA-256 of a high-entropy random token (reset links, sign-in challenges)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
