"""The OAuth scopes the gateway grants, and how a requested scope string is resolved.

Scopes name a resource family and an access level (``transactions:read``). ``profile`` is a
shorthand for ``profile:read profile:write`` (the users service checks the two separately).
A token gets ``requested ∩ client's registered scopes ∩ SCOPES``; nothing requested means the
client's registered scopes.
"""

from __future__ import annotations

from collections.abc import Iterable

SCOPES: tuple[str, ...] = (
    "profile:read",
    "profile:write",
    "accounts:read",
    "accounts:link",
    "accounts:write",
    "transactions:read",
    "transactions:write",
    "portfolio:read",
    "portfolio:write",
    "advice:read",
    "advice:write",
    "notifications",
    "notifications:read",
    "notifications:write",
    "offline_access",
)
ALIASES: dict[str, tuple[str, ...]] = {
    "profile": ("profile:read", "profile:write"),
    "notifications": ("notifications", "notifications:read", "notifications:write"),
}
MAX_SCOPE_LENGTH = 1000


def expand(scopes: Iterable[str]) -> set[str]:
    """Replace shorthands by what they stand for; unknown names are kept (and later dropped)."""
    out: set[str] = set()
    for name in scopes:
        out.update(ALIASES.get(name, (name,)))
    return out


def parse(scope: str | None) -> list[str]:
    """Split an RFC 6749 §3.3 scope string; ValueError on a malformed one."""
    if scope is None:
        return []
    if not isinstance(scope, str) or len(scope) > MAX_SCOPE_LENGTH:
        raise ValueError("scope must be a string of at most 1000 characters")
    names = scope.split()
    for name in names:
        if not all(0x21 <= ord(c) <= 0x7E and c not in '"\\' for c in name):
            raise ValueError(f"scope {name!r} has characters RFC 6749 does not allow")
    return names


def resolve(requested: str | None, allowed: Iterable[str]) -> str | None:
    """The scope to grant as a sorted space-separated string, or None when nothing is left
    (the caller answers ``invalid_scope``)."""
    client_scopes = expand(allowed) & set(SCOPES)
    names = parse(requested)
    wanted = expand(names) if names else client_scopes
    granted = wanted & client_scopes
    if names and not granted:
        return None
    return " ".join(sorted(granted)) or None
