"""The file-import provider: bank CSV exports and OFX/QFX statements -> Plaid-shaped rows.

Plain functions, no I/O: :func:`parse_file` takes the bytes and returns accounts with their
transactions (amounts already in Plaid's convention: positive = money out) or raises
:class:`ImportRejected` listing every bad row.
"""

from aggregation.file_import.errors import ImportRejected, RowError
from aggregation.file_import.parse import ParsedAccount, ParsedTransaction, parse_file

__all__ = ["ImportRejected", "ParsedAccount", "ParsedTransaction", "RowError", "parse_file"]
