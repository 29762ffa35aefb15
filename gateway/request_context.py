"""Per-request id: accepted from ``X-Request-ID`` when well formed, generated otherwise.

The id is stored on ``flask.g``, put in :data:`common.logging.request_id_var` (JSON logs and the
RPC pool's context data read it from there) and returned on every response.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, g, request

from common.logging import request_id_var, user_id_var

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def accept_or_generate(raw: str | None) -> str:
    """Return ``raw`` if it is 1-128 chars of ``[A-Za-z0-9._-]``, else a fresh uuid4 hex."""
    if raw is not None and _VALID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request being handled (generated on first use if a hook did not run)."""
    if "request_id" not in g:
        g.request_id = accept_or_generate(request.headers.get(HEADER))
    return g.request_id


def _bind() -> None:
    request_id = current_request_id()
    g.request_id_token = request_id_var.set(request_id)
    g.user_id_token = user_id_var.set(None)


def _stamp(response):
    response.headers[HEADER] = current_request_id()
    return response


def _unbind(_exc=None) -> None:
    for var, key in ((request_id_var, "request_id_token"), (user_id_var, "user_id_token")):
        token = g.pop(key, None)
        if token is not None:
            try:
                var.reset(token)
            except ValueError:  # set in another context (should not happen); just clear
                var.set(None)


def init_app(app: Flask) -> None:
    """Register first, so every other hook and error handler sees the id."""
    app.before_request_funcs.setdefault(None, []).insert(0, _bind)
    app.after_request(_stamp)
    app.teardown_request(_unbind)
