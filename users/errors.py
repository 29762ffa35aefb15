"""Errors of the users service that are not (yet) in :mod:`common.errors`.

``MfaCodeRequired`` crosses RPC as a typed error, like the common ones: the gateway must
import this module once so nameko can deserialise it (the registry key is its module path).
Proposed for ``common/errors.py``; then this module only re-exports it.
"""

from __future__ import annotations

from nameko.exceptions import deserialize_to_instance

from common.errors import DomainError

try:  # once common/errors.py defines it, this module only re-exports it
    from common.errors import MfaCodeRequired
except ImportError:

    @deserialize_to_instance
    class MfaCodeRequired(DomainError):
        """The password was right; a second factor is needed (or the one given was wrong).

        ``extra``: ``mfa_challenge`` (opaque, one sign-in attempt: send it back with ``totp``
        or ``recovery_code``), ``expires_in`` (seconds), ``attempts_left`` and ``reason``
        (``"missing"`` or ``"invalid"``).
        """

        status, code, title = 401, "mfa_code_required", "An authentication code is required"


class CommitThenRaise(Exception):  # noqa: N818 - a control-flow signal, not an error type
    """Raised by domain code when the writes so far must commit *and* the caller must get
    ``error`` (failed logins: the failure counter and the audit row are kept)."""

    def __init__(self, error: DomainError):
        self.error = error
        super().__init__(error.detail)
