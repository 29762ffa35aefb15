"""Request body policy: size limit, JSON only (by default), strict parsing, Decimal numbers.

- ``MAX_CONTENT_LENGTH`` (``settings.max_body_bytes``) -> 413, checked from ``Content-Length``
  before the view runs and enforced by werkzeug while reading chunked bodies.
- A request that carries a body must be ``application/json`` (or a ``+json`` type) -> else 415.
  A view that must take another type (e.g. the OAuth token endpoint's form encoding) says so
  with :func:`accepts`.
- JSON is parsed once, before the view, with numbers as :class:`decimal.Decimal` (never float)
  and ``NaN``/``Infinity`` refused; malformed JSON -> 400.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Request
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import (
    BadRequest,
    MethodNotAllowed,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

JSON_TYPES = frozenset({"application/json"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSED_METHODS = frozenset({"TRACE", "TRACK", "CONNECT"})


def _refuse_constant(name: str):
    raise ValueError(f"JSON constant {name} is not allowed")


def loads_decimal(data: str | bytes) -> Any:
    """``json.loads`` with every non-integer number as Decimal and NaN/Infinity refused."""
    return json.loads(data, parse_float=decimal.Decimal, parse_constant=_refuse_constant)


class DecimalJSONProvider(DefaultJSONProvider):
    """Flask JSON provider: Decimal in (see :func:`loads_decimal`), Decimal out as a string."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            return json.loads(s, **{"parse_float": decimal.Decimal, **kwargs})
        return loads_decimal(s)


class MalformedJson(BadRequest):
    problem_detail = "The request body is not valid JSON."


class GatewayRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        raise MalformedJson()


class JsonFirstParser(FlaskParser):
    """webargs parser reading the body Flask already parsed (Decimal numbers)."""

    def _raw_load_json(self, req) -> Any:
        if not core.is_json(req.mimetype) or not req.get_data(cache=True):
            return core.missing
        return req.get_json(cache=True)


def accepts(*media_types: str) -> Callable:
    """Let one view take request bodies of these media types instead of JSON only."""
    allowed = frozenset(t.lower() for t in media_types)

    def decorate(view):
        view.accepted_media_types = allowed
        return view

    return decorate


def _is_json(mimetype: str) -> bool:
    return mimetype in JSON_TYPES or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in (
        request.headers.get("Transfer-Encoding", "").lower()
    )


def _allowed_methods() -> list[str]:
    adapter = current_app.url_map.bind_to_environ(request.environ)
    return sorted(adapter.allowed_methods(request.path))


def _too_large(limit: int) -> RequestEntityTooLarge:
    exc = RequestEntityTooLarge()
    exc.problem_detail = f"The request body exceeds the limit of {limit} bytes."
    return exc


def enforce_body_policy() -> None:
    if request.method in REFUSED_METHODS:
        raise MethodNotAllowed(valid_methods=_allowed_methods())
    if request.routing_exception is not None:
        return  # 404 / 405 win over anything about the body
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        raise _too_large(limit)
    if not _has_body():
        return
    view = current_app.view_functions.get(request.endpoint)
    allowed = getattr(view, "accepted_media_types", None)
    mimetype = request.mimetype.lower()
    if allowed is not None:
        if mimetype not in allowed:
            exc = UnsupportedMediaType()
            exc.problem_detail = "Send the request body as " + " or ".join(sorted(allowed)) + "."
            raise exc
    elif not _is_json(mimetype):
        raise UnsupportedMediaType()
    # chunked (no Content-Length): werkzeug stops reading at the limit without complaint
    chunked = request.content_length is None and limit is not None
    if chunked and len(request.get_data(cache=True)) >= limit:
        raise _too_large(limit)
    if _is_json(mimetype):
        request.get_json(cache=True)  # raises MalformedJson (400)


def init_app(app: Flask) -> None:
    app.before_request(enforce_body_policy)
