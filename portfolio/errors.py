"""Domain errors of the portfolio numerical core.

Every error is a ``ValueError`` subclass carrying the offending ``field`` so the service layer can
map it to HTTP 422 with a pointer to the bad input.
"""

from __future__ import annotations


class InvalidInput(ValueError):
    """Bad numerical or calendar input (negative amount, impossible date, malformed array)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InfeasibleConstraints(InvalidInput):
    """No portfolio satisfies the bounds / constraints (e.g. upper bounds sum to less than one)."""


class InvalidCovariance(InvalidInput):
    """The covariance matrix is not symmetric, not finite, or not positive (semi-)definite."""
