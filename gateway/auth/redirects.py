"""Redirect-URI matching (RFC 9700 §2.1 exact matching; RFC 8252 §7.3 loopback ports).

A requested URI is allowed only if it equals a registered one character for character, with
one exception: a registered loopback URI without a port (``http://127.0.0.1/callback``,
``http://[::1]/callback``) matches the same URI with any port, because native apps listen on
an ephemeral port. Path, query and everything else must still be identical, so
``/callback/x``, ``/callback?a=b`` or ``#frag`` never match.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "::1")


def _without_port(uri: str) -> str | None:
    """The loopback URI with its port removed, or None if it is not a plain loopback URI."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS or parts.username:
        return None
    if port is None or "@" in parts.netloc:
        return uri
    host = "[::1]" if parts.hostname == "::1" else parts.hostname
    return parts._replace(netloc=host).geturl()


def redirect_uri_allowed(requested: str, registered: Iterable[str]) -> bool:
    if not isinstance(requested, str) or not requested or len(requested) > 2000:
        return False
    if "#" in requested:
        return False
    registered = list(registered)
    if requested in registered:
        return True
    bare = _without_port(requested)
    if bare is None or bare == requested:
        return False
    return any(uri == bare and urlsplit(uri).port is None for uri in registered)
