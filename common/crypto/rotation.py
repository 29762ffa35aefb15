"""Key rotation without downtime: add a KEK version, then rewrap every stored token.

A rewrap replaces only the wrapped-DEK part of a token (``transit/rewrap`` on Vault, so the
DEK never leaves the server); the data part is untouched. Services keep reading and writing
throughout: old versions still decrypt, new writes use the new version. The job is idempotent
and resumable because a token already under the latest version is skipped.

A *source* is anything holding tokens that can hand out batches of stale ones and write the
rewrapped tokens back; ``MappingRewrapSource`` (in memory) and
``common.crypto.sql_source.SqlAlchemyRewrapSource`` (database table) implement it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Protocol

from common.crypto.errors import DecryptionError
from common.crypto.field_cipher import FieldCipher
from common.crypto.providers.base import KeyProvider
from common.crypto.token import FORMAT_PREFIX, token_prefix

DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class RewrapTarget:
    """Which tokens are stale: this provider's tokens under a KEK version below ``version``."""

    provider: str
    version: int

    @classmethod
    def for_provider(cls, provider: KeyProvider) -> RewrapTarget:
        return cls(provider=provider.name, version=provider.current_version())

    @property
    def provider_prefix(self) -> str:
        return f"{FORMAT_PREFIX}.{self.provider}."

    @property
    def current_prefix(self) -> str:
        """Tokens starting with this are current (SQL sources filter on it)."""
        return token_prefix(self.provider, self.version)

    def is_stale(self, token: str | None) -> bool:
        if token is None or not token.startswith(self.provider_prefix):
            return False
        version = token[len(self.provider_prefix) :].split(".", 1)[0]
        return not version.isdigit() or int(version) < self.version


class RewrapSource(Protocol):
    name: str

    def rewrap_batch(self, rewrap: Callable[[str], str], target: RewrapTarget, limit: int) -> int:
        """Claim up to ``limit`` records holding a stale token, rewrap each stale token with
        ``rewrap``, write them back atomically and return how many tokens were rewritten
        (0 when nothing claimable is left). If ``rewrap`` raises, nothing of the batch is
        written."""

    def count_stale(self, target: RewrapTarget) -> int:
        """Stale tokens left (including records other transactions hold locked)."""


@dataclass
class SourceReport:
    name: str
    rewrapped: int = 0
    remaining: int = 0


@dataclass
class RotationReport:
    provider: str
    version: int
    rotated: bool
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def rewrapped(self) -> int:
        return sum(s.rewrapped for s in self.sources)

    @property
    def remaining(self) -> int:
        return sum(s.remaining for s in self.sources)


def rewrap_source(
    provider: KeyProvider, source: RewrapSource, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> SourceReport:
    """Rewrap every stale token of one source, batch by batch."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    cipher = FieldCipher(provider)
    report = SourceReport(name=source.name)
    while True:
        # Re-read the target every batch: if someone rotates again meanwhile, the job follows.
        target = RewrapTarget.for_provider(provider)

        def rewrap(token: str, target: RewrapTarget = target) -> str:
            result = cipher.rewrap(token)
            if target.is_stale(result):  # would loop forever; never expected
                raise RuntimeError(f"rewrap left a token below KEK version {target.version}")
            return result

        done = source.rewrap_batch(rewrap, target, batch_size)
        if done == 0:
            break
        report.rewrapped += done
    report.remaining = source.count_stale(RewrapTarget.for_provider(provider))
    return report


def rotate_and_rewrap(
    provider: KeyProvider,
    sources: Iterable[RewrapSource],
    *,
    rotate: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> RotationReport:
    """Add a KEK version (unless ``rotate=False``, to finish an interrupted run) and rewrap
    every source. ``remaining > 0`` in the report means rows were locked: run it again."""
    sources = list(sources)
    version = provider.rotate() if rotate else provider.current_version()
    report = RotationReport(provider=provider.name, version=version, rotated=rotate)
    for source in sources:
        report.sources.append(rewrap_source(provider, source, batch_size=batch_size))
    return report


class MappingRewrapSource:
    """Tokens in a mutable mapping (key -> token or None); for tests and small key-value stores."""

    def __init__(self, name: str, data: MutableMapping[Hashable, str | None]) -> None:
        self.name = name
        self.data = data

    def rewrap_batch(self, rewrap: Callable[[str], str], target: RewrapTarget, limit: int) -> int:
        stale = [(k, t) for k, t in self.data.items() if target.is_stale(t)][:limit]
        updates = {}
        for key, token in stale:
            try:
                updates[key] = rewrap(token)
            except DecryptionError as exc:
                raise DecryptionError(f"{self.name} key {key!r}: {exc}") from exc
        self.data.update(updates)
        return len(updates)

    def count_stale(self, target: RewrapTarget) -> int:
        return sum(1 for t in self.data.values() if target.is_stale(t))
