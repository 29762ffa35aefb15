"""RFC 9457 problem details (``application/problem+json``) for every error the gateway returns.

Each body has ``type``, ``title``, ``status``, ``detail``, ``instance`` (the request path, never
the query string) and ``request_id``; validation failures add ``errors`` (field -> messages).
Nothing internal leaks: no traceback, exception class name, SQL or token; unexpected exceptions
are logged server-side (redacted) and answered with a generic 500.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from common.errors import DomainError
from gateway.request_context import current_request_id

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:nestegg:problem:"

# status -> (code, title, default detail): short, stable, safe to show to anyone
HTTP_PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "Bad request", "The request could not be understood."),
    401: ("unauthenticated", "Authentication required", "Authentication is required."),
    403: ("forbidden", "Not allowed", "You are not allowed to do this."),
    404: ("not_found", "Not found", "No resource exists at this URL."),
    405: ("method_not_allowed", "Method not allowed", "This URL does not support this method."),
    406: ("not_acceptable", "Not acceptable", "No acceptable representation is available."),
    409: ("conflict", "Conflict", "The request conflicts with the current state."),
    411: ("length_required", "Length required", "A Content-Length header is required."),
    413: ("payload_too_large", "Payload too large", "The request body is too large."),
    414: ("uri_too_long", "URI too long", "The request URL is too long."),
    415: (
        "unsupported_media_type",
        "Unsupported media type",
        "Send the request body as application/json.",
    ),
    422: ("validation_failed", "The request payload is invalid", "One or more fields are invalid."),
    429: ("rate_limited", "Too many requests", "Too many requests; slow down."),
    431: (
        "headers_too_large",
        "Request header fields too large",
        "The request headers are too large.",
    ),
    500: ("internal_error", "Internal server error", "The server failed to handle the request."),
    502: ("bad_gateway", "Bad gateway", "A service failed to handle the request."),
    503: ("service_unavailable", "Service unavailable", "The service is temporarily unavailable."),
    504: ("gateway_timeout", "Gateway timeout", "A service did not answer in time."),
}
# headers of an HTTPException worth keeping (werkzeug's own are about the HTML body)
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def problem_body(status: int, *, detail: str | None = None, **members: Any) -> dict[str, Any]:
    code, title, default_detail = HTTP_PROBLEMS.get(
        status, (f"http_{status}", "Error", "The request failed.")
    )
    body = {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail or default_detail,
        "code": code,
    }
    body.update({k: v for k, v in members.items() if v is not None})
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    body = dict(body)
    body.setdefault("instance", request.path)
    body["request_id"] = current_request_id()
    response = current_app.json.response(body)
    response.status_code = int(body["status"])
    response.mimetype = MEDIA_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _validation_errors(exc: HTTPException) -> dict | None:
    data = getattr(exc, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    return messages if isinstance(messages, dict) else None


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {k: v for k, v in exc.get_headers() if k in _KEPT_HEADERS}
    data = getattr(exc, "data", None) or {}
    headers.update(data.get("headers") or {})
    detail = getattr(exc, "problem_detail", None)
    body = problem_body(status, detail=detail)
    if status == 422 or (status == 400 and _validation_errors(exc) is not None):
        errors = _validation_errors(exc)
        if errors is not None:
            body["errors"] = errors
    if status >= 500:
        log.warning("HTTP %s answered as a problem", status)
    return problem_response(body, headers)


def handle_domain_error(exc: DomainError) -> Response:
    body = exc.to_problem()
    headers = {}
    retry_after = exc.extra.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if exc.status >= 500:
        log.warning("domain error %s answered with %s", exc.code, exc.status)
    return problem_response(body, headers)


def handle_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):  # pragma: no cover - Flask routes these above
        return handle_http_exception(exc)
    log.exception("unhandled error in %s %s", request.method, request.path)
    return problem_response(problem_body(500))


def init_app(app: Flask) -> None:
    """Register after flask-smorest's ``Api`` so these handlers replace its JSON ones."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
