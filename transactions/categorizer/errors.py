"""Errors raised by the categoriser. Plain ``ValueError`` subclasses so callers need no broker."""

from __future__ import annotations


class CategorizerError(ValueError):
    """Base class: a bad input or state the caller can fix; the message says what and where."""


class UnknownCategory(CategorizerError):
    pass


class InvalidRule(CategorizerError):
    pass


class InvalidTransaction(CategorizerError):
    pass


class ArtifactNotFound(CategorizerError):
    pass


class ArtifactStoreUnavailable(CategorizerError):
    """The configured artefact store cannot be used here (for example boto3 is not installed)."""
