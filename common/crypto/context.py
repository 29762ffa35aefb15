"""Which cell a ciphertext belongs to, and the associated data (AAD) that binds it there."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from common.crypto.token import FORMAT_PREFIX

_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_TABLE_RE = re.compile(rf"(?:{_IDENTIFIER_RE.pattern}\.)?{_IDENTIFIER_RE.pattern}")
_ROW_ID_RE = re.compile(r"[A-Za-z0-9_:-]{1,128}")


@dataclass(frozen=True)
class CipherContext:
    """The cell of a ciphertext: ``table`` (optionally ``schema.table``), ``column``, ``row_id``.

    Row ids are client-generated (UUID strings), so the AAD is known before the INSERT. A row
    id that is a UUID (``uuid.UUID`` or any spelling of one) is canonicalised to the lowercase
    hyphenated form PostgreSQL returns, so ``str(row.id)`` always rebuilds the same AAD; an
    ``int`` key is turned into its decimal string.
    """

    table: str
    column: str
    row_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "row_id", _canonical_row_id(self.row_id))
        if not isinstance(self.table, str) or not _TABLE_RE.fullmatch(self.table):
            raise ValueError(
                f"table must be an SQL identifier (optionally schema.table): {self.table!r}"
            )
        if not isinstance(self.column, str) or not _IDENTIFIER_RE.fullmatch(self.column):
            raise ValueError(f"column must be an SQL identifier: {self.column!r}")
        if not isinstance(self.row_id, str) or not _ROW_ID_RE.fullmatch(self.row_id):
            raise ValueError(
                "row_id must be a non-empty string of letters, digits, '_', ':' or '-' "
                f"(at most 128), e.g. a UUID: {self.row_id!r}"
            )

    def associated_data(self) -> bytes:
        """``ne1|table|column|row_id``; unambiguous because no part may contain ``|``."""
        return "|".join((FORMAT_PREFIX, self.table, self.column, self.row_id)).encode("ascii")


def _canonical_row_id(row_id: object) -> object:
    if isinstance(row_id, uuid.UUID):
        return str(row_id)
    if isinstance(row_id, int) and not isinstance(row_id, bool):
        return str(row_id)
    if isinstance(row_id, str) and len(row_id) in (32, 36, 38):
        try:
            return str(uuid.UUID(row_id))
        except ValueError:
            return row_id
    return row_id
