"""Server-side OAuth state in Redis: authorization codes, refresh-token families, the jti
deny-list, sign-in attempts and a short cache of each user's ``sessions_valid_after``.

Nothing secret is stored in the clear: codes and refresh tokens are keyed by their SHA-256.
Every key has a TTL, so Redis never grows without bound. :class:`MemoryBackend` implements the
same seven primitives in process memory for unit tests (a fake, not a mock); production and
the integration/security tests use :class:`RedisBackend`.

Refresh families (RFC 9700 §4.14.2): one family per sign-in. Each refresh token maps to its
family; the family's ``current`` pointer names the only token that may be used. Using it swaps
the pointer atomically (compare-and-set) to the new token; presenting any other token of the
family (a replay) revokes the family and deny-lists the access tokens it issued.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from typing import Any, Protocol

PREFIX = "nestegg:auth:"
REVOKED = "revoked"
_CAS_LUA = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
"""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """An opaque token with 256 bits from the OS CSPRNG."""
    return secrets.token_urlsafe(32)


class Backend(Protocol):
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, ttl: int, *, nx: bool = False) -> bool: ...
    def getdel(self, key: str) -> str | None: ...
    def delete(self, *keys: str) -> None: ...
    def cas(self, key: str, expected: str, new: str) -> bool: ...
    def sadd(self, key: str, member: str, ttl: int) -> None: ...
    def smembers(self, key: str) -> set[str]: ...
    def mget(self, *keys: str) -> list[str | None]: ...


def _text(value) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class RedisBackend:
    def __init__(self, client):
        self.client = client
        self._cas = client.register_script(_CAS_LUA)

    def get(self, key):
        return _text(self.client.get(key))

    def set(self, key, value, ttl, *, nx=False):
        return bool(self.client.set(key, value, ex=max(1, int(ttl)), nx=nx))

    def getdel(self, key):
        return _text(self.client.getdel(key))

    def delete(self, *keys):
        if keys:
            self.client.delete(*keys)

    def cas(self, key, expected, new):
        return bool(self._cas(keys=[key], args=[expected, new]))

    def sadd(self, key, member, ttl):
        pipe = self.client.pipeline()
        pipe.sadd(key, member)
        pipe.expire(key, max(1, int(ttl)), gt=True)
        pipe.expire(key, max(1, int(ttl)), nx=True)
        pipe.execute()

    def smembers(self, key):
        return {_text(m) for m in self.client.smembers(key)}

    def mget(self, *keys):
        return [_text(v) for v in self.client.mget(keys)]


class MemoryBackend:
    """In-process stand-in with the same semantics (TTL, NX, atomic getdel/cas)."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.data: dict[str, tuple[Any, float]] = {}
        self.lock = threading.Lock()

    def _live(self, key):
        item = self.data.get(key)
        if item is None:
            return None
        if item[1] <= self.clock():
            del self.data[key]
            return None
        return item[0]

    def get(self, key):
        with self.lock:
            value = self._live(key)
            return value if isinstance(value, str) else None

    def set(self, key, value, ttl, *, nx=False):
        with self.lock:
            if nx and self._live(key) is not None:
                return False
            self.data[key] = (value, self.clock() + max(1, int(ttl)))
            return True

    def getdel(self, key):
        with self.lock:
            value = self._live(key)
            self.data.pop(key, None)
            return value

    def delete(self, *keys):
        with self.lock:
            for key in keys:
                self.data.pop(key, None)

    def cas(self, key, expected, new):
        with self.lock:
            if self._live(key) != expected:
                return False
            self.data[key] = (new, self.data[key][1])
            return True

    def sadd(self, key, member, ttl):
        with self.lock:
            members = self._live(key) or set()
            members = set(members) | {member}
            old_expiry = self.data.get(key, (None, 0))[1]
            self.data[key] = (members, max(old_expiry, self.clock() + max(1, int(ttl))))

    def smembers(self, key):
        with self.lock:
            return set(self._live(key) or ())

    def mget(self, *keys):
        with self.lock:
            values = [self._live(k) for k in keys]
        return [v if isinstance(v, str) else None for v in values]


class AuthStore:
    """The OAuth state operations, on any :class:`Backend`."""

    def __init__(self, backend: Backend, clock=time.time):
        self.b = backend
        self.clock = clock

    # --- jti deny-list ----------------------------------------------------------------------
    def deny(self, jti: str, exp: int) -> None:
        """Refuse this access token until it expires anyway (TTL = remaining lifetime + 60 s
        of leeway)."""
        remaining = int(exp - self.clock()) + 60
        if remaining > 0:
            self.b.set(f"{PREFIX}deny:{jti}", "1", remaining)

    def is_denied(self, jti: str) -> bool:
        return self.b.get(f"{PREFIX}deny:{jti}") is not None

    def token_status(self, jti: str, user_id: str) -> tuple[bool, dict | None]:
        """(denied, cached session state) in one round trip: the per-request check."""
        denied, session = self.b.mget(f"{PREFIX}deny:{jti}", f"{PREFIX}session:{user_id}")
        return denied is not None, None if session is None else json.loads(session)

    # --- sessions_valid_after cache -----------------------------------------------------------
    def cached_session_state(self, user_id: str) -> dict | None:
        raw = self.b.get(f"{PREFIX}session:{user_id}")
        return None if raw is None else json.loads(raw)

    def cache_session_state(self, user_id: str, state: dict, ttl: int) -> None:
        if ttl > 0:
            self.b.set(f"{PREFIX}session:{user_id}", json.dumps(state), ttl)

    def forget_session_state(self, user_id: str) -> None:
        self.b.delete(f"{PREFIX}session:{user_id}")

    # --- authorization codes -----------------------------------------------------------------
    def save_code(self, code: str, data: dict, ttl: int) -> None:
        self.b.set(f"{PREFIX}code:{digest(code)}", json.dumps(data), ttl)

    def take_code(self, code: str) -> dict | None:
        """The code's data, exactly once (atomic GETDEL); None if unknown, used or expired."""
        raw = self.b.getdel(f"{PREFIX}code:{digest(code)}")
        return None if raw is None else json.loads(raw)

    def mark_code_redeemed(self, code: str, family_id: str, ttl: int) -> None:
        self.b.set(f"{PREFIX}code-used:{digest(code)}", family_id, ttl)

    def redeemed_family(self, code: str) -> str | None:
        return self.b.get(f"{PREFIX}code-used:{digest(code)}")

    # --- refresh families -----------------------------------------------------------------
    def create_family(self, data: dict, *, absolute_ttl: int) -> str:
        family_id = secrets.token_hex(16)
        data = dict(data, family_id=family_id, expires_at=int(self.clock()) + absolute_ttl)
        self.b.set(f"{PREFIX}family:{family_id}", json.dumps(data), absolute_ttl)
        self.b.set(f"{PREFIX}family:{family_id}:current", "none", absolute_ttl)
        if data.get("user_id"):
            self.b.sadd(f"{PREFIX}user-families:{data['user_id']}", family_id, absolute_ttl)
        return family_id

    def family(self, family_id: str) -> dict | None:
        raw = self.b.get(f"{PREFIX}family:{family_id}")
        if raw is None:
            return None
        data = json.loads(raw)
        if data["expires_at"] <= self.clock():
            return None
        data["current"] = self.b.get(f"{PREFIX}family:{family_id}:current")
        return data

    def add_access_token(self, family_id: str, jti: str, exp: int) -> None:
        ttl = int(exp - self.clock()) + 60
        self.b.sadd(f"{PREFIX}family:{family_id}:access", f"{jti}:{exp}", ttl)

    def new_refresh_token(self, family_id: str, *, previous: str | None) -> str | None:
        """Issue the family's next refresh token, atomically replacing ``previous`` (the digest
        of the token being used, or None for the first). None when ``previous`` is not the
        family's current token (a replay or a concurrent use)."""
        data = self.family(family_id)
        if data is None:
            return None
        token = new_secret()
        expected = "none" if previous is None else previous
        if not self.b.cas(f"{PREFIX}family:{family_id}:current", expected, digest(token)):
            return None
        ttl = data["expires_at"] - int(self.clock())
        self.b.set(f"{PREFIX}refresh:{digest(token)}", family_id, max(1, ttl))
        return token

    def refresh_family_of(self, token: str) -> tuple[str, str] | None:
        """(family_id, token digest) for a refresh token we issued and that did not expire."""
        token_digest = digest(token)
        family_id = self.b.get(f"{PREFIX}refresh:{token_digest}")
        return None if family_id is None else (family_id, token_digest)

    def revoke_family(self, family_id: str) -> list[str]:
        """End a sign-in: its refresh tokens stop working and its live access tokens are
        deny-listed. Returns the deny-listed jtis."""
        key = f"{PREFIX}family:{family_id}:current"
        current = self.b.get(key)
        if current is not None and current != REVOKED:
            self.b.set(key, REVOKED, max(60, self._family_ttl(family_id)))
        denied = []
        for member in self.b.smembers(f"{PREFIX}family:{family_id}:access"):
            jti, _, exp = member.rpartition(":")
            if int(exp) > self.clock() - 60:
                self.deny(jti, int(exp))
                denied.append(jti)
        return denied

    def _family_ttl(self, family_id: str) -> int:
        data = self.family(family_id)
        return 60 if data is None else data["expires_at"] - int(self.clock())

    def is_family_revoked(self, family_id: str) -> bool:
        return self.b.get(f"{PREFIX}family:{family_id}:current") in (None, REVOKED)

    def revoke_user(self, user_id: str) -> int:
        """Revoke every sign-in of a user (logout everywhere, account deletion)."""
        families = self.b.smembers(f"{PREFIX}user-families:{user_id}")
        for family_id in families:
            self.revoke_family(family_id)
        return len(families)

    # --- sign-in attempts (the /oauth/authorize login form) -----------------------------------
    def save_login(self, login_id: str, data: dict, ttl: int) -> None:
        self.b.set(f"{PREFIX}login:{login_id}", json.dumps(data), ttl)

    def login(self, login_id: str) -> dict | None:
        raw = self.b.get(f"{PREFIX}login:{login_id}")
        return None if raw is None else json.loads(raw)

    def end_login(self, login_id: str) -> None:
        self.b.delete(f"{PREFIX}login:{login_id}")
